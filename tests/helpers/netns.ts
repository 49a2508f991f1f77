import { type ChildProcess, execFileSync, spawn } from 'node:child_process';

/**
 * Real network namespaces (root only) for link-cut tests. Names carry a per-test prefix so
 * parallel test files never collide; `destroy()` removes everything the instance created.
 */
export class NetnsLab {
  readonly prefix: string;
  private readonly namespaces: string[] = [];
  private readonly procs: ChildProcess[] = [];

  constructor(prefix: string) {
    if (!/^[a-z0-9]{1,8}$/.test(prefix)) throw new Error('prefix: 1-8 lowercase letters/digits');
    this.prefix = prefix;
  }

  static available(): boolean {
    if (process.getuid?.() !== 0) return false;
    try {
      execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }

  ns(name: string): string {
    return `${this.prefix}-${name}`;
  }

  create(name: string): string {
    const full = this.ns(name);
    try {
      execFileSync('ip', ['netns', 'del', full], { stdio: 'ignore' });
    } catch {
      // did not exist
    }
    execFileSync('ip', ['netns', 'add', full]);
    this.namespaces.push(full);
    this.exec(name, 'ip', ['link', 'set', 'lo', 'up']);
    return full;
  }

  /** Runs a command inside namespace `name` (no shell). */
  exec(name: string, cmd: string, args: string[]): string {
    return execFileSync('ip', ['netns', 'exec', this.ns(name), cmd, ...args], { encoding: 'utf8' });
  }

  /** Starts a long-running process inside a namespace; killed by destroy(). */
  spawn(name: string, cmd: string, args: string[]): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', this.ns(name), cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.procs.push(p);
    return p;
  }

  /**
   * A veth pair between two namespaces (or the root namespace when a side is null), with
   * addresses in CIDR form, e.g. veth('a', 'b', '10.9.0.1/30', '10.9.0.2/30').
   */
  veth(
    aNs: string | null,
    bNs: string | null,
    aAddr: string,
    bAddr: string,
    id: string,
  ): { a: string; b: string } {
    const a = `${this.prefix}${id}a`;
    const b = `${this.prefix}${id}b`;
    execFileSync('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
    for (const [dev, ns, addr] of [
      [a, aNs, aAddr],
      [b, bNs, bAddr],
    ] as const) {
      if (ns) execFileSync('ip', ['link', 'set', dev, 'netns', this.ns(ns)]);
      const run = (args: string[]) =>
        ns ? this.exec(ns, 'ip', args) : execFileSync('ip', args, { encoding: 'utf8' });
      run(['addr', 'add', addr, 'dev', dev]);
      run(['link', 'set', dev, 'up']);
    }
    return { a, b };
  }

  /** Takes an interface down (cut) or up (repair) inside a namespace (null = root). */
  setLink(ns: string | null, dev: string, up: boolean): void {
    const args = ['link', 'set', dev, up ? 'up' : 'down'];
    if (ns) this.exec(ns, 'ip', args);
    else execFileSync('ip', args);
  }

  destroy(): void {
    for (const p of this.procs) p.kill('SIGKILL');
    for (const ns of this.namespaces.reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    this.namespaces.length = 0;
  }
}
