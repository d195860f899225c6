// web/src/main.tsx — the browser app's entry: one BoardStore kept live over /rpc, rendered by App.
import { createRoot } from "react-dom/client"
import { startLiveFeed } from "./api/live.js"
import { App } from "./App.js"
import { BoardStore } from "./state/board.js"
import "./styles.css"

const board = new BoardStore()
startLiveFeed(board)
const root = document.getElementById("root")
if (root !== null) createRoot(root).render(<App board={board} />)
