// web/src/views/SettingsPage.tsx — the project's configuration as the server reads it: project.toml and
// agents.toml, and the config problem in force (the last good config is used meanwhile), if any.
import { useState } from "react"
import { call } from "../api/client.js"
import { useRead } from "./hooks.js"
import type { PageProps } from "./pages.js"
import "./views.css"

const File = ({ name, text }: { readonly name: string; readonly text: string }) => (
  <section aria-labelledby={`file-${name}`}>
    <h2 id={`file-${name}`}>
      <code>.huskies/{name}</code>
    </h2>
    {text === "" ? (
      <p className="muted">(empty or missing)</p>
    ) : (
      <pre className="file" tabIndex={0} aria-label={name}>
        {text}
      </pre>
    )}
  </section>
)

export const SettingsPage = (_: PageProps) => {
  const [asked, setAsked] = useState(0)
  // Read on opening and on Reload; the board's changes do not touch these files, so no other cue.
  const { value: settings, error, loading } = useRead(() => call((c) => c.Settings()), [asked])
  return (
    <section aria-labelledby="page-title" className="page">
      <h1 id="page-title">Settings</h1>
      <div className="toolbar">
        <button onClick={() => setAsked((n) => n + 1)} disabled={loading}>
          Reload
        </button>
      </div>
      {error !== undefined ? (
        <p role="alert" className="problem">
          {error}
        </p>
      ) : null}
      {settings?.problem !== undefined ? (
        <div role="alert" className="notice">
          <strong>Configuration problem:</strong> {settings.problem}
          <br />
          The last good configuration stays in force until this is fixed.
        </div>
      ) : null}
      {settings === undefined ? (
        <p className="muted">Loading…</p>
      ) : (
        <>
          <File name="project.toml" text={settings.projectToml} />
          <File name="agents.toml" text={settings.agentsToml} />
        </>
      )}
    </section>
  )
}
