/* 民意研判: draw every <canvas data-chart="…"> with the vendored Chart.js; a click on a bar or
   point opens the opinions behind it (the chart's "links", one per label). */
(function () {
  "use strict";
  var COLORS = ["#b3202a", "#d98a2b", "#3a7d44", "#2f5d8a", "#7a4f9a"];

  function draw(canvas) {
    var spec;
    try {
      spec = JSON.parse(canvas.getAttribute("data-chart"));
    } catch (e) {
      return;
    }
    var horizontal = !!spec.horizontal;
    var datasets = spec.datasets.map(function (ds, i) {
      var color = COLORS[i % COLORS.length];
      return {
        label: ds.label,
        data: ds.data,
        borderColor: color,
        backgroundColor: spec.type === "line" ? color : color + "cc",
        tension: 0.25,
        pointRadius: 3,
        fill: false
      };
    });
    var chart = new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: horizontal ? "y" : "x",
        interaction: { mode: "nearest", intersect: spec.type !== "line", axis: horizontal ? "y" : "x" },
        // Every chart counts things (opinions, words, service days): whole-number ticks only.
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0 } },
          y: { beginAtZero: true, ticks: { precision: 0 } }
        },
        plugins: { legend: { display: datasets.length > 1 } },
        onClick: function (event, elements) {
          if (!elements.length || !spec.links || !spec.links.length) { return; }
          var link = spec.links[elements[0].index];
          if (link) { window.location.href = link; }
        },
        onHover: function (event, elements) {
          var clickable = elements.length && spec.links && spec.links.length;
          event.native.target.style.cursor = clickable ? "pointer" : "default";
        }
      }
    });
    canvas.chart = chart;
    canvas.setAttribute("data-rendered", "1");
  }

  function init() {
    if (!window.Chart) { return; }
    var canvases = document.querySelectorAll("canvas[data-chart]");
    for (var i = 0; i < canvases.length; i++) { draw(canvases[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
