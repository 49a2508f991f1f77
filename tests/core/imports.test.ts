import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/daemon.js';

const SRC = join(REPO_ROOT, 'src');

/** Relative imports of every .ts file under dir, as paths relative to src/ (type imports too). */
function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const name of readdirSync(join(SRC, dir), { recursive: true }) as string[]) {
    if (!name.endsWith('.ts')) continue;
    const file = join(SRC, dir, name);
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)].map((m) =>
      relative(SRC, resolve(dirname(file), `${m[1]}.ts`)),
    );
    graph.set(relative(SRC, file), targets);
  }
  return graph;
}

function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const walk = (node: string, path: string[]) => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'open') {
      found.push([...path.slice(path.indexOf(node)), node]);
      return;
    }
    state.set(node, 'open');
    for (const next of graph.get(node) ?? []) if (graph.has(next)) walk(next, [...path, node]);
    state.set(node, 'done');
  };
  for (const node of graph.keys()) walk(node, []);
  return found;
}

describe('import structure', () => {
  it('core/ has no import cycle', () => {
    expect(cycles(importGraph('core'))).toEqual([]);
  });

  it('the module contract has no import cycle', () => {
    expect(cycles(importGraph('modules'))).toEqual([]);
  });

  it('status/ holds only the shared contract: it imports no module', () => {
    const outside = [...importGraph('status').values()]
      .flat()
      .filter((t) => !t.startsWith('status/') && t !== 'config/schema.ts');
    expect(outside).toEqual([]);
  });
});
