// web/src/views/format.ts — how the pages show times and amounts: the time left before a permission
// request expires, clock times, dollars and token counts. Pure; used by the decisions, merges, cost
// and logs pages.

/** "45 s", "2 min 05 s", "1 h 02 min", or "expired" once `ms` is not positive. */
export const timeLeft = (ms: number): string => {
  if (!(ms > 0)) return "expired"
  const seconds = Math.ceil(ms / 1000)
  if (seconds < 60) return `${seconds} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, "0")} s`
  const hours = Math.floor(minutes / 60)
  return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`
}

/** "just now", "40 s ago", "3 min ago", "2 h ago", "4 d ago". */
export const ago = (ms: number): string => {
  const seconds = Math.floor(Math.max(0, ms) / 1000)
  if (seconds < 5) return "just now"
  if (seconds < 60) return `${seconds} s ago`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min ago`
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return `${hours} h ago`
  return `${Math.floor(hours / 24)} d ago`
}

export const clock = (at: number): string =>
  new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })

export const dateTime = (at: number): string =>
  new Date(at).toLocaleString([], {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  })

/** Dollars with cents, and with more digits for amounts under a cent so they do not read as zero. */
export const usd = (amount: number): string =>
  amount !== 0 && Math.abs(amount) < 0.01 ? `$${amount.toFixed(4)}` : `$${amount.toFixed(2)}`

export const tokens = (n: number): string =>
  n >= 1_000_000 ? `${(n / 1_000_000).toFixed(1)}M` : n >= 10_000 ? `${Math.round(n / 1000)}k` : String(n)
