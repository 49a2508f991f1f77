import type { StatusObject, StatusSection } from './types.js';

/**
 * Assembles the live status object from the sections modules register. Sections that no
 * module provides keep their empty defaults.
 */
export class StatusHub {
  private readonly base: StatusObject;
  private readonly sections = new Map<string, StatusSection>();

  constructor(base: StatusObject) {
    this.base = base;
  }

  register(section: StatusSection): void {
    this.sections.set(section.section, section);
  }

  snapshot(): StatusObject {
    const out = { ...this.base } as Record<string, unknown>;
    for (const [key, section] of this.sections) out[key] = section.live();
    return out as unknown as StatusObject;
  }
}
