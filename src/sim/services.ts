/**
 * Village-hall services a kiosk (anjungan mandiri) offers, with rough relative demand:
 * civil registry documents dominate, letters from the village office follow.
 */
export const KIOSK_SERVICES: ReadonlyArray<{ service: string; weight: number }> = [
  { service: 'ktp-el', weight: 18 },
  { service: 'kartu-keluarga', weight: 16 },
  { service: 'akta-kelahiran', weight: 14 },
  { service: 'surat-keterangan-domisili', weight: 10 },
  { service: 'surat-keterangan-usaha', weight: 9 },
  { service: 'surat-keterangan-tidak-mampu', weight: 8 },
  { service: 'surat-pindah', weight: 6 },
  { service: 'akta-kematian', weight: 5 },
  { service: 'kartu-identitas-anak', weight: 5 },
  { service: 'surat-pengantar-skck', weight: 4 },
  { service: 'surat-keterangan-ahli-waris', weight: 2 },
  { service: 'cek-bansos', weight: 3 },
];

const TOTAL = KIOSK_SERVICES.reduce((s, x) => s + x.weight, 0);

export function pickService(random: () => number = Math.random): string {
  let r = random() * TOTAL;
  for (const s of KIOSK_SERVICES) {
    r -= s.weight;
    if (r < 0) return s.service;
  }
  return KIOSK_SERVICES[0]?.service ?? 'ktp-el';
}

export function pickOutcome(random: () => number = Math.random): string {
  const r = random();
  return r < 0.9 ? 'ok' : r < 0.95 ? 'failed' : 'cancelled';
}
