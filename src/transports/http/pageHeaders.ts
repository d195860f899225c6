// src/transports/http/pageHeaders.ts — the security headers of every HTML page the server sends (the
// web app's index.html, the login page, the "not built" page) and of its assets.
import { createHash } from "node:crypto"

/**
 * The web app's policy. Scripts only from this server's own files (Vite emits no inline script);
 * connections only to this server: CSP Level 3 matches ws:/wss: of the page's own host with 'self',
 * so no other socket can be opened. Styles allow 'unsafe-inline' because xterm.js writes its
 * terminal's theme and sizes into <style> elements it creates; a style cannot run code.
 */
export const appPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ")

/** The SHA-256 source expression of an inline <style> (its exact text between the tags). */
export const styleHash = (css: string): string =>
  `'sha256-${createHash("sha256").update(css, "utf8").digest("base64")}'`

/** The policy of a self-contained page: nothing loads, no script runs, only its own style applies. */
export const standalonePolicy = (css: string): string =>
  [
    "default-src 'none'",
    `style-src ${styleHash(css)}`,
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ")

/** Headers every response of the UI carries, assets included. */
export const baseHeaders: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "cross-origin-resource-policy": "same-origin",
}

/**
 * Headers of an HTML page. The referrer policy is same-origin, not no-referrer: under no-referrer a
 * browser submits a form with `Origin: null` (the Fetch standard's rule; Chromium does), which the
 * access guard rightly refuses, so the login form would never get through. No URL leaves the site
 * either way.
 */
export const htmlHeaders = (policy: string): Record<string, string> => ({
  ...baseHeaders,
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": policy,
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
})

const entities: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
}

/** Text made safe for HTML content and quoted attribute values. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => entities[c] ?? c)
