// The live feed: one EventSource; every message refreshes "last updated". The daemon sends a
// status at least every 5 s, so 15 s of silence means it stopped answering: the page says so.
const STALE_MS = 15_000;

export const live = {
  status: null,
  updatedAt: null,
  lastSeen: 0,
  stale: false,
  // The box's wall clock minus the phone's: records are stamped by the box, so "how long ago"
  // and "the last 7 days" are measured by the box's clock, whatever the phone's says.
  offsetMs: 0,
  source: null,
  timer: null,
  listeners: new Set(),
  onExpired: () => {},

  start() {
    this.stop();
    this.lastSeen = Date.now();
    const es = new EventSource('/api/v1/events');
    this.source = es;
    es.addEventListener('status', (e) => {
      const data = JSON.parse(e.data);
      this.status = data.status;
      this.updatedAt = data.at;
      const at = Date.parse(data.at);
      if (Number.isFinite(at)) this.offsetMs = at - Date.now();
      this.seen('status');
    });
    for (const name of ['link.changed', 'device.changed', 'outage.ended', 'alert', 'diag']) {
      es.addEventListener(name, (e) => {
        const payload = JSON.parse(e.data);
        if (this.status && name === 'link.changed') this.status.link = payload;
        if (this.status && name === 'device.changed') {
          const i = this.status.devices.findIndex((d) => d.id === payload.id);
          if (i >= 0) this.status.devices[i] = payload;
          else this.status.devices.push(payload);
        }
        this.seen(name, payload);
      });
    }
    es.addEventListener('expired', () => {
      this.stop();
      this.onExpired();
    });
    this.timer = setInterval(() => this.checkStale(), 2000);
  },

  stop() {
    this.source?.close();
    this.source = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  },

  seen(event, payload) {
    this.lastSeen = Date.now();
    const wasStale = this.stale;
    this.stale = false;
    for (const fn of this.listeners) fn(event, payload, wasStale);
  },

  checkStale() {
    const stale = Date.now() - this.lastSeen > STALE_MS;
    if (stale !== this.stale) {
      this.stale = stale;
      for (const fn of this.listeners) fn('stale', null, !stale);
    }
  },

  /** Now by the box's clock (epoch ms), as of the last status it sent. */
  now() {
    return Date.now() + this.offsetMs;
  },

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  },
};
