import { Writable } from 'node:stream';
import pino from 'pino';
import { LOG_REDACT } from '../../api/app';
import { CLAIM_TICKET_HEADER } from '../../common/schemas';
import { CLAIM_TOKEN_HEADER, generateToken } from '../../common/tokens';

test("the api's logger never writes a user token, a claim token or a claim ticket, whatever logs the request's headers", () => {
  let written = '';
  const sink = new Writable({ write: (chunk, _encoding, done) => ((written += chunk), done()) });
  const [user, claim] = [generateToken('user'), generateToken('claim')];
  pino({ redact: LOG_REDACT }, sink).info({ req: { headers: { authorization: `Bearer ${user}`, [CLAIM_TOKEN_HEADER]: claim, [CLAIM_TICKET_HEADER]: 'a-ticket', host: 'api' } } }, 'request');
  expect(JSON.parse(written).req.headers).toEqual({ authorization: '[Redacted]', [CLAIM_TOKEN_HEADER]: '[Redacted]', [CLAIM_TICKET_HEADER]: '[Redacted]', host: 'api' });
});
