/* graphmem interactive graph view (cytoscape.js). Part of graphmem, Apache-2.0.
 *
 * graphmemRender(element, spec, cytoscape, onSelect) draws a view spec built by
 * graphmem.explore.view.graph_spec into element: pan (drag the background), zoom (wheel or
 * pinch), click a node or an edge to see its properties, colours by kind, edge labels, the hit
 * path highlighted; labels too small to read at the current zoom are hidden until zoomed in. It writes what it drew into the element's attributes
 * (data-graphmem-nodes, data-graphmem-edges, data-graphmem-drawn) so a headless browser can
 * check it. User text is only ever set with textContent.
 */
function graphmemRender(element, spec, cytoscape, onSelect) {
  "use strict";
  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function show(value) {
    if (value === null || value === undefined) { return ""; }
    if (typeof value === "object") { return JSON.stringify(value, null, 1); }
    return String(value);
  }

  while (element.firstChild) { element.removeChild(element.firstChild); }
  element.classList.add("graphmem-view");

  var head = make("div", "gm-head");
  head.appendChild(make("span", "gm-title", spec.title));
  var legend = make("span", "gm-legend");
  Object.keys(spec.colours || {}).forEach(function (kind) {
    var chip = make("span", "gm-chip");
    var dot = make("span", "gm-dot");
    dot.style.background = spec.colours[kind];
    chip.appendChild(dot);
    chip.appendChild(document.createTextNode(kind));
    legend.appendChild(chip);
  });
  if (spec.kind === "explanation") {
    var seedChip = make("span", "gm-chip");
    var ring = make("span", "gm-dot gm-ring");
    seedChip.appendChild(ring);
    seedChip.appendChild(document.createTextNode("seed (outline)"));
    legend.appendChild(seedChip);
  }
  head.appendChild(legend);
  var tools = make("span", "gm-tools");
  var layoutSelect = make("select", "gm-layout");
  [["preset", "graphmem layout"], ["cose", "force (cose)"], ["breadthfirst", "tree"],
   ["concentric", "concentric"], ["circle", "circle"]].forEach(function (option) {
    var item = make("option", null, option[1]);
    item.value = option[0];
    layoutSelect.appendChild(item);
  });
  var fitButton = make("button", "gm-fit", "fit");
  tools.appendChild(layoutSelect);
  tools.appendChild(fitButton);
  head.appendChild(tools);

  var caption = spec.caption ? make("div", "gm-caption", spec.caption) : null;
  var body = make("div", "gm-body");
  var canvas = make("div", "gm-canvas");
  canvas.style.height = (spec.height || 560) + "px";
  var panel = make("div", "gm-panel");
  panel.style.height = canvas.style.height;
  var hint = "Click a node or an edge to see its properties. Drag to pan, scroll to zoom " +
    "(small labels appear as you zoom in).";
  panel.appendChild(make("div", "gm-hint", hint));
  body.appendChild(canvas);
  body.appendChild(panel);
  element.appendChild(head);
  if (caption) { element.appendChild(caption); }
  element.appendChild(body);

  var positions = {};
  var elements = [];
  (spec.nodes || []).forEach(function (node) {
    positions[node.data.id] = node.position;
    elements.push({ group: "nodes", data: node.data, position: { x: node.position.x, y: node.position.y } });
  });
  (spec.edges || []).forEach(function (edge) { elements.push({ group: "edges", data: edge.data }); });

  var cy = cytoscape({
    container: canvas,
    elements: elements,
    layout: { name: "preset", fit: true, padding: 40 },
    minZoom: 0.05,
    maxZoom: 5,
    wheelSensitivity: 0.4,
    style: [
      { selector: "node", style: {
        "background-color": "data(colour)", "label": "data(label)", "width": "data(size)", "height": "data(size)",
        "font-size": 13, "color": "#222", "text-wrap": "wrap", "text-max-width": "150px",
        "text-valign": "bottom", "text-margin-y": 4, "text-background-color": "#ffffff",
        "text-background-opacity": 0.85, "text-background-padding": "2px", "border-width": 1, "border-color": "#ffffff",
        "min-zoomed-font-size": 7 } },
      { selector: "node[?seed]", style: { "border-width": 5, "border-color": "#2e282a" } },
      { selector: "node[?root]", style: { "font-weight": "bold", "font-size": 14, "min-zoomed-font-size": 0 } },
      { selector: "edge", style: {
        "width": 1.5, "line-color": "#9a9a9a", "target-arrow-color": "#9a9a9a", "target-arrow-shape": "triangle",
        "curve-style": "bezier", "label": "data(label)", "font-size": 10, "color": "#444", "text-rotation": "autorotate",
        "text-background-color": "#ffffff", "text-background-opacity": 0.85, "text-background-padding": "1px",
        "min-zoomed-font-size": 8 } },
      { selector: "edge[?path]", style: { "width": "data(width)", "line-color": "#d62828", "target-arrow-color": "#d62828" } },
      { selector: ":selected", style: { "border-width": 5, "border-color": "#1f77b4", "line-color": "#1f77b4",
        "target-arrow-color": "#1f77b4" } },
      { selector: ".gm-faded", style: { "opacity": 0.2 } }
    ]
  });

  function describe(target) {
    while (panel.firstChild) { panel.removeChild(panel.firstChild); }
    var data = target.data();
    var isNode = target.isNode();
    var heading = isNode ? data.kind + ": " + data.label : data.label + "  (" + data.source + " \u2192 " + data.target + ")";
    panel.appendChild(make("div", "gm-panel-title", heading));
    var table = make("table", "gm-props");
    var props = data.props || {};
    Object.keys(props).forEach(function (key) {
      var row = make("tr");
      row.appendChild(make("th", null, key));
      row.appendChild(make("td", null, show(props[key])));
      table.appendChild(row);
    });
    panel.appendChild(table);
    cy.elements().removeClass("gm-faded");
    if (isNode) {
      cy.elements().difference(target.closedNeighborhood()).addClass("gm-faded");
    }
    if (onSelect) {
      onSelect({ group: isNode ? "node" : "edge", id: data.id, label: data.label, properties: props });
    }
  }
  cy.on("tap", "node, edge", function (event) { describe(event.target); });
  cy.on("tap", function (event) {
    if (event.target === cy) {
      cy.elements().removeClass("gm-faded");
      while (panel.firstChild) { panel.removeChild(panel.firstChild); }
      panel.appendChild(make("div", "gm-hint", hint));
    }
  });

  function runLayout(name) {
    var options = { name: name, fit: true, padding: 40, animate: false };
    if (name === "preset") { options.positions = function (node) { return positions[node.id()]; }; }
    if (name === "breadthfirst" && spec.root) { options.roots = [spec.root]; options.directed = false; }
    if (name === "cose") { options.randomize = false; options.nodeRepulsion = function () { return 40000; }; }
    cy.layout(options).run();
    report();
  }
  layoutSelect.addEventListener("change", function () { runLayout(layoutSelect.value); });
  fitButton.addEventListener("click", function () { cy.fit(undefined, 40); });

  function report() {
    var width = canvas.clientWidth, height = canvas.clientHeight;
    var drawn = cy.nodes().filter(function (node) {
      var box = node.renderedBoundingBox({ includeLabels: false });
      return box.w > 0 && box.h > 0 && box.x2 > 0 && box.y2 > 0 && box.x1 < width && box.y1 < height;
    }).length;
    element.setAttribute("data-graphmem-nodes", String(cy.nodes().length));
    element.setAttribute("data-graphmem-edges", String(cy.edges().length));
    element.setAttribute("data-graphmem-drawn", String(drawn));
  }
  if (typeof ResizeObserver !== "undefined") {
    // In Jupyter the element may have no size yet when drawn: fit once it has one.
    var fitted = false;
    var observer = new ResizeObserver(function () {
      if (canvas.clientWidth > 0 && canvas.clientHeight > 0) {
        cy.resize();
        if (!fitted) { cy.fit(undefined, 40); fitted = true; }
        report();
      }
    });
    observer.observe(canvas);
    cy.on("destroy", function () { observer.disconnect(); });
  }
  report();
  return cy;
}
