import { useState } from 'preact/hooks';
import { getToken } from '../api';

/**
 * A button that POSTs one control (cancel, pause, resume) with the session's token. The API alone
 * decides who may (submitter, organization leaders, server admins) and says why not; the live view
 * that shows the button picks up the new state on its next poll.
 */
export function ActionButton({ url, label, busyLabel, name }: { url: string; label: string; busyLabel: string; name: string }) {
  const [state, setState] = useState<{ busy: boolean; error?: string }>({ busy: false });
  const post = async () => {
    setState({ busy: true });
    const response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${getToken()}`, 'content-type': 'application/json' }, body: '{}' });
    const body = response.ok ? null : await response.json().catch(() => ({ message: response.statusText }));
    setState(body ? { busy: false, error: body.message } : { busy: true });
  };
  return (
    <>
      <button type="button" class={name} disabled={state.busy} onClick={post}>{state.busy ? busyLabel : label}</button>
      {state.error && <small class="error"> {state.error}</small>}
    </>
  );
}
