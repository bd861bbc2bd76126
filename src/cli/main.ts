export async function main(argv: string[]): Promise<number> {
  process.stdout.write(`ddcl: commands are being built (${argv.join(' ')})\n`);
  return 0;
}
