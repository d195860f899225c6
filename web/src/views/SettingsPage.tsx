// web/src/views/SettingsPage.tsx — the settings page (placeholder until it is built).
import type { PageProps } from "./pages.js"

export const SettingsPage = (_: PageProps) => (
  <section aria-labelledby="page-title">
    <h1 id="page-title">Settings</h1>
    <p>This page is not available in this version.</p>
  </section>
)
