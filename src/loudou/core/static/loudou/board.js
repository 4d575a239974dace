// Drag a card to another column to move the deal. The server checks the exit criteria
// and answers with the refreshed board and its messages (unmet criteria included).
(function () {
  "use strict";
  function bind(root) {
    root.querySelectorAll("article.deal").forEach(function (card) {
      card.addEventListener("dragstart", function (ev) {
        ev.dataTransfer.setData("text/plain", card.dataset.deal + ":" + card.dataset.version);
        card.classList.add("dragging");
      });
      card.addEventListener("dragend", function () { card.classList.remove("dragging"); });
    });
    root.querySelectorAll("section.column").forEach(function (column) {
      column.addEventListener("dragover", function (ev) { ev.preventDefault(); column.classList.add("over"); });
      column.addEventListener("dragleave", function () { column.classList.remove("over"); });
      column.addEventListener("drop", function (ev) {
        ev.preventDefault();
        column.classList.remove("over");
        var parts = ev.dataTransfer.getData("text/plain").split(":");
        if (!parts[0]) { return; }
        htmx.ajax("POST", "/deals/" + parts[0] + "/move/", {
          target: "#board",
          swap: "outerHTML",
          values: { stage: column.dataset.stage, version: parts[1], from: "board" },
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var board = document.getElementById("board");
    if (board) { bind(board); }
    // The pipeline picker shows another pipeline's board as soon as one is chosen (here,
    // not in an onchange attribute: the Content-Security-Policy forbids inline script).
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  });
  document.body.addEventListener("htmx:afterSwap", function (ev) {
    var board = document.getElementById("board");
    if (board) { bind(board); }
  });
})();
