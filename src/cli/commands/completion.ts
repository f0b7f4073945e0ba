/** @module cli/commands/completion — `tlsrpt completion bash|zsh` and `tlsrpt man`, from the commander definitions. */
import type { Command } from 'commander';

export function register(program: Command): void {
  const completion = program.command('completion')
    .argument('<shell>', 'bash or zsh')
    .description('print a shell completion script: eval "$(tlsrpt completion bash)", or save it to your completion folder')
    .action(async (shell: string) => {
      const { bashCompletion, commandTree, zshCompletion } = await import('../help-formats.js');
      if (shell !== 'bash' && shell !== 'zsh') completion.error(`error: unknown shell "${shell}" (expected bash or zsh)`, { exitCode: 2, code: 'tlsrpt.usage' });
      process.stdout.write((shell === 'bash' ? bashCompletion : zshCompletion)(commandTree(program)));
    });
  program.command('man')
    .description('print the man page (roff): tlsrpt man > /usr/local/share/man/man1/tlsrpt.1')
    .action(async () => {
      const { commandTree, manPage } = await import('../help-formats.js');
      process.stdout.write(manPage(commandTree(program), program.version() ?? ''));
    });
}
