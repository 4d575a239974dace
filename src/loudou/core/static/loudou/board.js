// The board: drag a card to another column to move the deal, or onto Won / Lost. The
// server checks the exit criteria: it answers with the refreshed board, or with a dialog
// listing what is missing, to fix in place. Listeners are delegated from the document, so
// cards loaded later ("Show more") and boards swapped in by htmx need no rebinding.
(function () {
  "use strict";
  function dialog() { return document.getElementById("move-dialog"); }
  function filters() {
    var board = document.getElementById("board");
    var qs = board ? board.dataset.filters : "";
    return qs ? "?" + qs : "";
  }
  function dropTarget(el) { return el.closest ? el.closest("section.column, section.dropzone") : null; }

  document.addEventListener("dragstart", function (ev) {
    var card = ev.target.closest && ev.target.closest("article.deal");
    if (!card) { return; }
    ev.dataTransfer.setData("text/plain", card.dataset.deal + ":" + card.dataset.version);
    card.classList.add("dragging");
  });
  document.addEventListener("dragend", function (ev) {
    var card = ev.target.closest && ev.target.closest("article.deal");
    if (card) { card.classList.remove("dragging"); }
  });
  document.addEventListener("dragover", function (ev) {
    var zone = dropTarget(ev.target);
    if (zone) { ev.preventDefault(); zone.classList.add("over"); }
  });
  document.addEventListener("dragleave", function (ev) {
    var zone = dropTarget(ev.target);
    if (zone) { zone.classList.remove("over"); }
  });
  document.addEventListener("drop", function (ev) {
    var zone = dropTarget(ev.target);
    if (!zone) { return; }
    ev.preventDefault();
    zone.classList.remove("over");
    var parts = ev.dataTransfer.getData("text/plain").split(":");
    if (!parts[0]) { return; }
    var deal = "/deals/" + parts[0];
    var outcome = zone.dataset.outcome;
    if (outcome === "lost") {
      // Lost asks for the reason first.
      htmx.ajax("GET", deal + "/lose-dialog/" + filters(), { target: "#move-dialog", swap: "innerHTML" });
      return;
    }
    var url = deal + (outcome === "won" ? "/win/" : "/move/") + filters();
    var values = { version: parts[1], from: "board" };
    if (!outcome) { values.stage = zone.dataset.stage; }
    htmx.ajax("POST", url, { target: "#board", swap: "outerHTML", values: values });
  });

  // The dialog opens when content is swapped into it and closes on the server's word
  // (HX-Trigger loudou:closeDialog) or its Cancel button.
  document.body.addEventListener("htmx:afterSwap", function (ev) {
    var d = dialog();
    if (d && ev.detail.target === d && !d.open) { d.showModal(); }
  });
  document.body.addEventListener("loudou:closeDialog", function () {
    var d = dialog();
    if (d && d.open) { d.close(); }
  });
  document.addEventListener("click", function (ev) {
    if (ev.target.matches && ev.target.matches("[data-close-dialog]")) {
      var d = dialog();
      if (d) { d.close(); }
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    // The pipeline picker shows another pipeline's board as soon as one is chosen (here,
    // not in an onchange attribute: the Content-Security-Policy forbids inline script).
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  });
})();
