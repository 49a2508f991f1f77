/** Where a command writes; main.ts passes the process streams. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadStream;
  /** A person is watching stdout (not journald, a pipe or a file). */
  stdoutIsTTY: boolean;
}

export const processIo: CliIo = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
  env: process.env,
  stdin: process.stdin,
  stdoutIsTTY: process.stdout.isTTY === true,
};
