/* Charts drawn from their own table view (ECharts, vendored under static/vendor).
 *
 * <figure class="chart" data-table="ID" data-kind="bar|line|stacked|funnel|hbar" [data-group="G"] [data-percent]>
 *   <div class="chart-canvas"></div> … </figure>
 * The table with that id gives the data: its first column the categories, every header cell with a
 * data-series attribute a series (its text the series' name; with data-group, only those whose data-series
 * is G), each cell's data-value (or its text) the number; rows marked data-total are left out. So a chart
 * shows exactly what its table says, in the page's language.
 */
(function () {
  "use strict";

  function number(cell) {
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent;
    var value = parseFloat(String(raw).replace(/[,\s%]/g, ""));
    return isNaN(value) ? null : value;
  }

  function readTable(table, group) {
    var headers = Array.prototype.slice.call(table.querySelectorAll("thead th"));
    var columns = [];
    headers.forEach(function (th, index) {
      if (th.hasAttribute("data-series") && (!group || th.getAttribute("data-series") === group)) {
        columns.push({ index: index, name: th.textContent.trim() });
      }
    });
    var categories = [];
    var series = columns.map(function (column) { return { name: column.name, data: [] }; });
    Array.prototype.forEach.call(table.querySelectorAll("tbody tr"), function (row) {
      if (row.hasAttribute("data-total")) { return; }
      var cells = row.children;
      categories.push(cells[0].textContent.trim());
      columns.forEach(function (column, k) { series[k].data.push(number(cells[column.index])); });
    });
    return { categories: categories, series: series };
  }

  function options(kind, data, percent) {
    var format = percent ? "{value}%" : "{value}";
    if (kind === "funnel") {
      return {
        tooltip: { trigger: "item" },
        series: [{
          type: "funnel", sort: "none", left: "10%", width: "80%", label: { show: true, position: "inside" },
          data: data.categories.map(function (name, i) { return { name: name, value: data.series[0].data[i] }; })
        }]
      };
    }
    var horizontal = kind === "hbar";
    var categoryAxis = { type: "category", data: data.categories, axisLabel: { interval: 0, hideOverlap: true } };
    var valueAxis = { type: "value", axisLabel: { formatter: format } };
    if (kind === "stacked" && percent) { valueAxis.max = 100; }
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 16, bottom: 8, top: 36, containLabel: true },
      xAxis: horizontal ? valueAxis : categoryAxis,
      yAxis: horizontal ? categoryAxis : valueAxis,
      series: data.series.map(function (s) {
        return {
          name: s.name, data: s.data, type: kind === "line" ? "line" : "bar",
          stack: kind === "stacked" ? "total" : undefined, smooth: false
        };
      })
    };
  }

  function draw(figure) {
    var table = document.getElementById(figure.getAttribute("data-table"));
    var canvas = figure.querySelector(".chart-canvas");
    if (!table || !canvas || typeof echarts === "undefined") { return; }
    var data = readTable(table, figure.getAttribute("data-group"));
    if (!data.categories.length) { figure.classList.add("chart-empty"); return; }
    var chart = echarts.init(canvas, null, { renderer: "svg" });
    chart.setOption(options(figure.getAttribute("data-kind") || "bar", data, figure.hasAttribute("data-percent")));
    figure.classList.add("chart-drawn");
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("figure.chart[data-table]"), draw);
  });
}());
