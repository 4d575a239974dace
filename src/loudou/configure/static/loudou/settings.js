// Settings pages: drag stages to reorder them, show the pickers of the chosen kind of
// exit criterion, paste a block from Excel into the quota grid. (No inline script: the
// Content-Security-Policy forbids it.)
(function () {
  "use strict";
  function stages() {
    var list = document.getElementById("stages");
    if (!list) { return; }
    var dragged = null;
    list.querySelectorAll(".stage-row").forEach(function (row) {
      row.addEventListener("dragstart", function () { dragged = row; row.classList.add("dragging"); });
      row.addEventListener("dragend", function () { row.classList.remove("dragging"); });
      row.addEventListener("dragover", function (ev) {
        ev.preventDefault();
        if (!dragged || dragged === row) { return; }
        var box = row.getBoundingClientRect();
        var after = ev.clientY > box.top + box.height / 2;
        list.insertBefore(dragged, after ? row.nextSibling : row);
      });
      row.addEventListener("drop", function (ev) {
        ev.preventDefault();
        var form = document.getElementById(list.dataset.orderForm);
        var ids = Array.prototype.map.call(list.querySelectorAll(".stage-row"), function (r) { return r.dataset.stage; });
        form.querySelector("input[name=order]").value = ids.join(",");
        form.submit();
      });
    });
  }
  function criteria() {
    document.querySelectorAll("form.criterion-form").forEach(function (form) {
      var kind = form.querySelector("select[name=kind]");
      function show() {
        form.querySelectorAll("label[data-for]").forEach(function (label) {
          label.hidden = label.dataset.for !== kind.value;
        });
      }
      kind.addEventListener("change", show);
      show();
      // "At least" compares numbers: offered only when the field picked holds one (the
      // server refuses it for any other field anyway).
      var field = form.querySelector("select[name=field_name]");
      var check = form.querySelector("select[name=field_check]");
      function numbers() {
        var picked = field.options[field.selectedIndex];
        var number = Boolean(picked && picked.hasAttribute("data-number"));
        Array.prototype.forEach.call(check.options, function (option) {
          if (!option.hasAttribute("data-needs-number")) { return; }
          option.hidden = !number;
          option.disabled = !number;
        });
        var chosen = check.options[check.selectedIndex];
        if (chosen && chosen.disabled) {
          var first = Array.prototype.find.call(check.options, function (o) { return !o.disabled; });
          if (first) { check.value = first.value; }
        }
      }
      if (field && check) {
        field.addEventListener("change", numbers);
        numbers();
      }
    });
  }
  function quotas() {
    // Each grid (reps, teams) takes its own pastes: a block fills that grid only.
    document.querySelectorAll("table.quota-grid").forEach(function (grid) {
      var rows = Array.prototype.map.call(grid.querySelectorAll("tbody tr"), function (tr) {
        return Array.prototype.slice.call(tr.querySelectorAll("input"));
      });
      rows.forEach(function (inputs, r) {
        inputs.forEach(function (input, c) {
          input.addEventListener("paste", function (ev) {
            var text = (ev.clipboardData || window.clipboardData).getData("text");
            if (text.indexOf("\t") < 0 && text.indexOf("\n") < 0) { return; }
            ev.preventDefault();
            text.replace(/\r/g, "").replace(/\n$/, "").split("\n").forEach(function (line, i) {
              line.split("\t").forEach(function (cell, j) {
                var target = rows[r + i] && rows[r + i][c + j];
                if (target) { target.value = cell.trim(); }
              });
            });
          });
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    stages();
    criteria();
    quotas();
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  });
}());
