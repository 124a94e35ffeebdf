// Cycles between features: dependency-cruiser sees file cycles only, so this collapses its module
// graph to one node per folder under packages/server/src/features/ and finds the strongly
// connected components (Tarjan). Each component of two or more features is one cycle to break.

const featureOf = (path) => /^packages\/server\/src\/features\/([^/]+)\//.exec(path)?.[1];

/** Answers the cycles between features in a dependency-cruiser result's `modules`, each with the imports that make it. */
export function findFeatureCycles(modules) {
  const edges = new Map(); // feature -> Map(feature -> [{ from, to }])
  for (const module of modules) {
    const from = featureOf(module.source);
    if (!from) continue;
    for (const dependency of module.dependencies) {
      const to = featureOf(dependency.resolved);
      if (!to || to === from) continue;
      if (!edges.has(from)) edges.set(from, new Map());
      const targets = edges.get(from);
      if (!targets.has(to)) targets.set(to, []);
      targets.get(to).push({ from: module.source, to: dependency.resolved });
    }
  }
  return stronglyConnected(edges)
    .filter((component) => component.length > 1)
    .map((component) => {
      const members = new Set(component);
      const imports = component.flatMap((from) => [...(edges.get(from) ?? [])].filter(([to]) => members.has(to)).flatMap(([, list]) => list));
      return { features: component.sort(), imports };
    })
    .sort((a, b) => a.features.join().localeCompare(b.features.join()));
}

/** Tarjan's algorithm over `edges` (node -> Map(node -> ...)): answers the components as arrays of nodes. */
function stronglyConnected(edges) {
  const nodes = new Set([...edges.keys(), ...[...edges.values()].flatMap((targets) => [...targets.keys()])]);
  const index = new Map();
  const lowLink = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  let next = 0;
  const visit = (node) => {
    index.set(node, next);
    lowLink.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of edges.get(node)?.keys() ?? []) {
      if (!index.has(target)) {
        visit(target);
        lowLink.set(node, Math.min(lowLink.get(node), lowLink.get(target)));
      } else if (onStack.has(target)) lowLink.set(node, Math.min(lowLink.get(node), index.get(target)));
    }
    if (lowLink.get(node) !== index.get(node)) return;
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    components.push(component);
  };
  for (const node of nodes) if (!index.has(node)) visit(node);
  return components;
}
