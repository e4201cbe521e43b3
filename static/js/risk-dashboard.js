/* Risk dashboard: draws the score-history and daily-errors charts with the vendored Chart.js, from the JSON the
   page carries (json_script "risk-chart-data"), and redraws them after htmx swaps in a recalculated panel.
   A file, never inline: the Content-Security-Policy allows 'self' scripts only. Without it the tables still work. */
(function () {
  "use strict";

  var PALETTE = ["#c92a2a", "#e8590c", "#4338ca", "#0b7285", "#5f3dc4", "#2b8a3e"];

  function readData(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart-source"));
    if (!source) return null;
    try {
      return JSON.parse(source.textContent);
    } catch (error) {
      return null;
    }
  }

  function shortDay(isoDay) {
    // "2026-11-21" -> "11-21": thirty labels must fit a phone's width.
    return isoDay.slice(5);
  }

  function scoresConfig(data) {
    return {
      type: "line",
      data: {
        labels: data.labels.map(shortDay),
        datasets: data.scores.map(function (series, index) {
          var color = PALETTE[index % PALETTE.length];
          return {label: series.label, data: series.data, borderColor: color, backgroundColor: color,
                  spanGaps: true, tension: 0.2, pointRadius: 2};
        })
      },
      options: {
        responsive: true,
        animation: false,
        scales: {y: {min: 0, max: 100, title: {display: true, text: "Risk score"}}},
        plugins: {legend: {position: "bottom", labels: {boxWidth: 12}}}
      }
    };
  }

  function occurrencesConfig(data) {
    return {
      type: "bar",
      data: {
        labels: data.labels.map(shortDay),
        datasets: [{label: "Occurrences", data: data.occurrences, backgroundColor: "#e8590c"}]
      },
      options: {
        responsive: true,
        animation: false,
        scales: {y: {beginAtZero: true, ticks: {precision: 0}}},
        plugins: {legend: {display: false}}
      }
    };
  }

  function draw(root) {
    if (typeof window.Chart === "undefined") return;
    (root || document).querySelectorAll("canvas[data-risk-chart]").forEach(function (canvas) {
      var existing = window.Chart.getChart(canvas);
      if (existing) existing.destroy();
      var data = readData(canvas);
      if (!data) return;
      var kind = canvas.getAttribute("data-risk-chart");
      var chart = new window.Chart(canvas, kind === "scores" ? scoresConfig(data) : occurrencesConfig(data));
      canvas.setAttribute("data-chart-ready", String(chart.data.datasets.length));
    });
  }

  // Changing the project or the entity type shows it at once; the Show button stays for keyboards and no-JS.
  function setupAutosubmit() {
    document.addEventListener("change", function (event) {
      var target = event.target;
      if (target.matches && target.matches("select[data-risk-autosubmit]") && target.form) target.form.submit();
    });
  }

  function start() {
    setupAutosubmit();
    draw(document);
    document.body.addEventListener("htmx:afterSettle", function (event) {
      draw(event.detail && event.detail.elt ? event.detail.elt : document);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
