// method.get-not-post: a GET refused with 401/405 where POSTs to the same path are accepted, or a
// refused GET that carries the payload or the credentials in its query string (where POSTs to that
// path exist, or credential-named query fields are present). Runs in finish over the summaries,
// since the accepted POSTs may come later in the capture.

import { isCredentialField } from './credentials.js';
import type { AuthFamily, FindingSink } from './family.js';
import { makeFinding, uniqFrames } from './finding.js';
import type { ExchangeStore, ExchangeSummary } from './store.js';

interface PostStats {
  total: number;
  accepted: number;
  example: ExchangeSummary | null;
}

export function createMethodFamily(): AuthFamily {
  return {
    name: 'method',
    finish(store: ExchangeStore, out: FindingSink): void {
      const posts = new Map<string, PostStats>();
      // Paths where a GET was accepted: GET is a method the endpoint takes, so a refused GET there is
      // about its credentials (e.g. the first leg of a challenge round-trip), not its method.
      const getAccepted = new Set<string>();
      for (const s of store.list) {
        if (s.protocol === 'http' && s.method === 'GET' && s.accepted) getAccepted.add(store.endpointPath(s));
        if (s.protocol !== 'http' || s.method !== 'POST') continue;
        const p = store.endpointPath(s);
        let st = posts.get(p);
        if (!st) posts.set(p, (st = { total: 0, accepted: 0, example: null }));
        st.total++;
        if (s.accepted) {
          st.accepted++;
          st.example = s;
        } else if (!st.example) st.example = s;
      }
      for (const s of store.list) {
        if (s.protocol !== 'http' || s.method !== 'GET' || s.status === null || s.status < 400 || s.status >= 500) continue;
        const path = store.endpointPath(s);
        if (getAccepted.has(path)) continue;
        const st = posts.get(path);
        const queryNames = s.queryNames ?? [];
        const credQuery = queryNames.filter(isCredentialField);
        let reason: 'post-accepted' | 'query-payload' | 'query-credentials' | null = null;
        if ((s.status === 401 || s.status === 405) && st && st.accepted > 0) reason = 'post-accepted';
        else if (queryNames.length > 0 && st && st.total > 0) reason = 'query-payload';
        else if (credQuery.length > 0 && (s.status === 401 || s.status === 403 || s.status === 405)) reason = 'query-credentials';
        if (!reason) continue;
        const ex = st?.example ?? null;
        const frames = uniqFrames([s.reqFrame, s.resFrame, ex?.reqFrame]);
        const why =
          reason === 'post-accepted'
            ? `while ${st!.accepted} POST${st!.accepted > 1 ? 's' : ''} to the same path ${st!.accepted > 1 ? 'were' : 'was'} accepted (e.g. frame ${ex!.reqFrame})`
            : reason === 'query-payload'
              ? `and carries its payload in the query string (${queryNames.slice(0, 6).join(', ')}) where the client${st!.total > 1 ? 's' : ''} also POST to this path (frame ${ex!.reqFrame})`
              : `and carries credentials in the query string (${credQuery.join(', ')})`;
        out.push(
          makeFinding(
            'method.get-not-post',
            { exchange: s.id, stream: ex && ex.stream !== s.stream ? null : s.stream, frames },
            `GET ${s.path} from ${s.client} (frame ${s.reqFrame}) got ${s.status} ${why}: send it as a POST with the fields in the body`,
            {
              reason,
              path: s.path,
              endpoint: `GET ${path}`,
              client: s.client,
              status: s.status,
              queryFields: queryNames.slice(0, 50),
              queryCredentialFields: credQuery,
              posts: st ? { total: st.total, accepted: st.accepted, example: ex ? { exchange: ex.id, frame: ex.reqFrame, status: ex.status } : null } : null,
            },
          ),
        );
      }
    },
  };
}
