/**
 * Why `isartor serve` could not listen where it was told, in words with the flag that fixes it,
 * instead of Node's "listen EADDRNOTAVAIL: address not available 192.0.2.1".
 */

/**
 * The message for an error from listening on `host`:`port`, or undefined for any other error.
 *
 * @example listenProblem(eaddrinuse, '127.0.0.1', 8787)
 * // "port 8787 on 127.0.0.1 is already in use; pick another with --port N (or --port 0 for any free port)"
 */
export function listenProblem(error: unknown, host: string, port: number): string | undefined {
  const { code, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  if (code === 'EADDRINUSE') return `port ${port} on ${host} is already in use; pick another with --port N (or --port 0 for any free port)`;
  if (code === 'EACCES' && syscall === 'listen') return `this user may not listen on port ${port} of ${host} (ports below 1024 usually need privileges); pick another with --port N`;
  if (code === 'EADDRNOTAVAIL') return `${host} is not an address of this machine; pick another with --host H (default 127.0.0.1)`;
  if ((code === 'ENOTFOUND' || code === 'EAI_AGAIN') && syscall === 'getaddrinfo') return `the host name ${host} does not resolve to an address; pick another with --host H (default 127.0.0.1)`;
  return undefined;
}
