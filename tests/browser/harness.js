// Renders Mermaid diagrams in a browser page and reports what each one shows, as JSON.
//
// Used by tests/test_mermaid.py.  The page that loads this file must first load
// node_modules/mermaid/dist/mermaid.min.js and define
//   window.NOLEAD_DIAGRAMS = [{source: "flowchart LR ...", config: {...}}, ...]
// Each diagram is rendered in turn with mermaid.render() (mermaid's defaults plus the
// diagram's own `config`) and its SVG inserted into the page.  The report is written as
// JSON text into <pre id="result">, and the page title then becomes "done":
//   {pwned: false, diagrams: [entry, ...]}
// with one entry per diagram, either {error: "..."} when mermaid refused the diagram, or
//   {nodes: {t0: text, ...}, clusters: {g0: text, ...}, members: {g0: ["t1", ...], ...},
//    edges: [{id: "L_t0_t1_0", classes: "...", style: "...", label: text|null}, ...],
//    svg: length of the SVG source}
// where each text is the label as a reader sees it: the text of the label's DOM, with a
// "\n" for each <br> and between the lines of an SVG text label.  `pwned` is true when
// any script in a diagram ran and set window.noleadPwned.

"use strict";

// The text of a label element: text nodes in document order, "\n" for <br> and between
// the lines (<tspan class="text-outer-tspan">) of an SVG text label.
function shownText(element) {
  let text = "";
  let lines = 0;
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      text += node.data;
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    const tag = node.localName;
    if (tag === "br") {
      text += "\n";
      return;
    }
    if (tag === "style" || tag === "title" || tag === "desc") return;
    if (tag === "tspan" && node.classList.contains("text-outer-tspan")) {
      if (lines++ > 0) text += "\n";
    }
    for (const child of node.childNodes) walk(child);
  };
  walk(element);
  return text;
}

function stripPrefix(id, prefix) {
  return id.startsWith(prefix) ? id.slice(prefix.length) : id;
}

// The diagram's own node ID: Mermaid names the node's <g> "<svg id>-flowchart-<ID>-<n>"
// (Mermaid 10: "flowchart-<ID>-<n>").
function nodeId(node) {
  const match = /(?:^|-)flowchart-(.+)-\d+$/.exec(node.id);
  return match ? match[1] : node.id;
}

function report(svgId, host) {
  const nodes = {};
  for (const node of host.querySelectorAll("g.node")) {
    const label = node.querySelector(".label");
    nodes[nodeId(node)] = label ? shownText(label) : null;
  }
  const clusters = {};
  const members = {};
  for (const cluster of host.querySelectorAll("g.cluster")) {
    const id = stripPrefix(cluster.id, svgId + "-");
    const label = cluster.querySelector(".cluster-label");
    clusters[id] = label ? shownText(label) : null;
    // Mermaid draws subgraphs and nodes side by side, so membership is read off the
    // layout: the nodes whose box lies inside the subgraph's box.
    const box = (cluster.querySelector("rect") || cluster).getBoundingClientRect();
    members[id] = [];
    for (const node of host.querySelectorAll("g.node")) {
      const inner = node.getBoundingClientRect();
      if (inner.left >= box.left && inner.right <= box.right &&
          inner.top >= box.top && inner.bottom <= box.bottom) {
        members[id].push(nodeId(node));
      }
    }
  }
  const labels = {};
  for (const label of host.querySelectorAll(".edgeLabel .label[data-id]")) {
    labels[label.dataset.id] = shownText(label);
  }
  // Mermaid 10 gives edge labels no ID, but draws one per edge, in edge order.
  const unnamed = host.querySelectorAll("g.edgeLabels > g.edgeLabel");
  const paths = host.querySelectorAll("path.flowchart-link");
  const edges = [];
  for (const [index, path] of paths.entries()) {
    // Edge IDs are "L_<from>_<to>_<n>" (Mermaid 10: "L-<from>-<to>-<n>").
    const id = (path.dataset.id || stripPrefix(path.id, svgId + "-"))
      .replace(/^L-(.*)-(.*)-(\d+)$/, "L_$1_$2_$3");
    let label = labels[id] ?? null;
    if (label === null && !Object.keys(labels).length && unnamed.length === paths.length) {
      label = shownText(unnamed[index]) || null;
    }
    const classes = path.getAttribute("class");
    edges.push({ id, classes, style: path.getAttribute("style"), label });
  }
  return { nodes, clusters, members, edges };
}

async function renderAll(diagrams) {
  const results = [];
  for (const [index, diagram] of diagrams.entries()) {
    const svgId = `diagram${index}`;
    const host = document.createElement("div");
    document.body.appendChild(host);
    try {
      mermaid.initialize({ startOnLoad: false, ...(diagram.config || {}) });
      const { svg } = await mermaid.render(svgId, diagram.source);
      host.innerHTML = svg;
      if (!host.querySelector("svg")) throw new Error("mermaid.render() returned no <svg>");
      results.push({ ...report(svgId, host), svg: svg.length });
    } catch (error) {
      results.push({ error: String((error && error.message) || error) });
    }
    host.remove();
  }
  return results;
}

(async () => {
  const out = document.getElementById("result");
  try {
    const diagrams = await renderAll(window.NOLEAD_DIAGRAMS);
    await new Promise((resolve) => setTimeout(resolve, 100)); // let any injected handler run
    out.textContent = JSON.stringify({ pwned: window.noleadPwned === true, diagrams });
    document.title = "done";
  } catch (error) {
    out.textContent = JSON.stringify({ harnessError: String(error) });
    document.title = "failed";
  }
})();
