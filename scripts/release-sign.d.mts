import type { KeyObject } from 'node:crypto';

export function listFiles(dir: string): string[];
export function readSigningKey(keyFile: string): KeyObject;
export function writePublicKey(dir: string, key: KeyObject): void;
export function sumAndSign(dir: string, key: KeyObject | undefined): string;
