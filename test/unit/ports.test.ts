import { listeningInodes } from '../../devenv/ports';

describe('listeningInodes', () => {
  const table = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4717 1 0000000000000000 100 0 0 10 0',
    // Connected (01), not listening, on the same port: not a holder.
    '   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 4718 1 0000000000000000 20 4 30 10 -1',
    '   2: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4719 1 0000000000000000 100 0 0 10 0',
  ].join('\n');

  it('finds the listening sockets on a port, whatever the address', () => {
    expect(listeningInodes(table, 8080)).toEqual(['4717']);
    expect(listeningInodes(table, 8081)).toEqual(['4719']);
  });

  it('reads IPv6 tables alike', () => {
    const v6 = ' sl local_address rem_address st tx_queue rx_queue tr tm->when retrnsmt uid timeout inode\n' +
      '  0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 9001 1 0000000000000000 100 0 0 10 0';
    expect(listeningInodes(v6, 8080)).toEqual(['9001']);
  });

  it('finds nothing on a free port', () => {
    expect(listeningInodes(table, 5000)).toEqual([]);
  });
});
