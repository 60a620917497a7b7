// What the page says when the server refuses the viewer: the status and the server's own words, plus what to do.

/** A sentence for a refusal of `/v1/consume` or the read routes ({status, message} from the server). */
export function refusalText(status, serverMessage, userId) {
  const said = serverMessage ? ` The server said: “${serverMessage}”.` : "";
  if (status === 401 && /expired/i.test(serverMessage ?? "")) {
    return `Token expired (401). Mint a new consumer token and connect again.${said}`;
  }
  if (status === 401) {
    return `Token refused (401): it is missing, malformed or signed with another secret.${said}`;
  }
  if (status === 403) {
    return `This token may not read user “${userId}” (403): it is for another user, or it is not a consumer token.${said}`;
  }
  if (status === 400) return `Invalid request (400).${said}`;
  if (status === 503) return `The server cannot check tokens (503): AUTH_SECRET is not configured.${said}`;
  return `The server answered ${status}.${said}`;
}

/** "0.3 s", "12 s", "4 min", "2 h". */
export function ageText(ms) {
  if (ms < 10_000) return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}
