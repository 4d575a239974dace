// Draw every chart of the page: each <div data-figure="ID"> gets the plotly figure held
// in <script type="application/json" id="ID"> (data, not code: the Content-Security-Policy
// allows no inline script). The modebar's camera button downloads the chart as a PNG.
(function () {
  "use strict";
  function draw(root) {
    if (typeof Plotly === "undefined") { return; }
    root.querySelectorAll("div[data-figure]").forEach(function (div) {
      var source = document.getElementById(div.dataset.figure);
      if (!source || div.dataset.drawn) { return; }
      var figure = JSON.parse(source.textContent);
      if (!figure.data) { return; }
      div.dataset.drawn = "1";
      Plotly.newPlot(div, figure.data, figure.layout || {}, {
        responsive: true,
        displaylogo: false,
        toImageButtonOptions: { format: "png", filename: div.dataset.filename || "loudou-chart", scale: 2 },
        // Nothing leaves the site: no "share to the cloud" button.
        modeBarButtonsToRemove: ["select2d", "lasso2d", "sendChartToCloud", "sendDataToCloud"],
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
    // The period presets fill the two dates and show the cockpit again.
    document.querySelectorAll("button[data-from]").forEach(function (button) {
      button.addEventListener("click", function () {
        var form = button.form;
        form.querySelector("input[name=from]").value = button.dataset.from;
        form.querySelector("input[name=to]").value = button.dataset.to;
      });
    });
  });
}());
