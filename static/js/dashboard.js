/* Draws the supervision dashboard's charts with ECharts from the JSON block rendered by
   Django's json_script filter (id "dashboard-data"). No inline script or style: CSP-safe. */
(function () {
  "use strict";

  var source = document.getElementById("dashboard-data");
  if (!source || typeof window.echarts === "undefined") {
    return;
  }
  var charts = JSON.parse(source.textContent);
  var palette = ["#3b6ea8", "#5aa469", "#e0a03a", "#c8553d", "#7a5195", "#4bacc6", "#8c8c8c"];
  // richText tooltips draw inside the canvas: no HTML with style attributes, which the CSP refuses.
  var tooltip = { renderMode: "richText", confine: true };

  function base(extra) {
    var option = { color: palette, animation: false, tooltip: Object.assign({ trigger: "item" }, tooltip) };
    return Object.assign(option, extra);
  }

  function crowded(labels) {
    return labels.length > 6 || labels.some(function (label) { return label.length > 6; });
  }

  function categoryOption(spec, kind) {
    return base({
      tooltip: Object.assign({ trigger: "axis" }, tooltip),
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: spec.labels, axisLabel: { interval: 0, rotate: crowded(spec.labels) ? 30 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: kind, name: spec.name, data: spec.values }]
    });
  }

  // Long labels (the causes) read better down the side, the most frequent at the top.
  function horizontalOption(spec) {
    return base({
      tooltip: Object.assign({ trigger: "axis" }, tooltip),
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: spec.labels },
      series: [{ type: "bar", name: spec.name, data: spec.values, barMaxWidth: 28 }]
    });
  }

  function pieOption(spec) {
    return base({
      legend: { type: "scroll", bottom: 0 },
      series: [{
        type: "pie",
        name: spec.name,
        radius: ["35%", "65%"],
        data: spec.labels.map(function (label, i) { return { name: label, value: spec.values[i] }; })
      }]
    });
  }

  function funnelOption(spec) {
    var names = spec.names;
    var normal = spec.points.filter(function (p) { return !p[3]; });
    var above = spec.points.filter(function (p) { return p[3] === "alarm" || p[3] === "warning"; });
    var below = spec.points.filter(function (p) { return p[3] === "below"; });
    var maxX = spec.points.reduce(function (m, p) { return Math.max(m, p[0]); }, 0);
    var maxY = spec.points.reduce(function (m, p) { return Math.max(m, p[1]); }, 0);
    // Limits for tiny volumes run off the top; keep the listeners and the platform line in view.
    var topY = Math.ceil(Math.max(maxY, spec.platform_rate * 2, 1) * 1.1);
    return base({
      legend: { top: 0 },
      grid: { left: 8, right: 24, top: 32, bottom: 28, containLabel: true },
      xAxis: { type: "value", name: names.x, nameLocation: "middle", nameGap: 24 },
      yAxis: { type: "value", name: names.y, max: topY },
      series: [
        { type: "scatter", name: names.listeners, symbolSize: 6, data: normal, encode: { x: 0, y: 1, tooltip: [2, 0, 1] } },
        { type: "scatter", name: names.above, symbolSize: 9, itemStyle: { color: "#c8553d" }, data: above, encode: { x: 0, y: 1, tooltip: [2, 0, 1] } },
        { type: "scatter", name: names.below, symbolSize: 9, symbol: "diamond", itemStyle: { color: "#2e8b57" }, data: below, encode: { x: 0, y: 1, tooltip: [2, 0, 1] } },
        { type: "line", name: names.platform, showSymbol: false, data: [[0, spec.platform_rate], [maxX, spec.platform_rate]], lineStyle: { type: "solid" } },
        { type: "line", name: names.warning, showSymbol: false, data: spec.warning, lineStyle: { type: "dashed" } },
        { type: "line", name: names.lower, showSymbol: false, data: spec.lower, lineStyle: { type: "dashed" } },
        { type: "line", name: names.alarm, showSymbol: false, data: spec.alarm, lineStyle: { type: "dotted" } }
      ]
    });
  }

  var drawn = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var spec = charts[el.getAttribute("data-chart")];
    if (!spec) {
      return;
    }
    var option;
    if (spec.kind === "pie") {
      option = pieOption(spec);
    } else if (spec.kind === "hbar") {
      option = horizontalOption(spec);
    } else if (spec.kind === "funnel") {
      option = funnelOption(spec);
    } else {
      option = categoryOption(spec, spec.kind === "line" ? "line" : "bar");
    }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    drawn.push(chart);
  });
  window.addEventListener("resize", function () {
    drawn.forEach(function (chart) { chart.resize(); });
  });
})();
