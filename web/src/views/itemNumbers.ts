// web/src/views/itemNumbers.ts — reads the item numbers a person types for dependencies ("12, 14 #15"),
// for the new-item form (NewItem.tsx).

/** Item numbers from "12, 14 #15"; a token that is no number is named in the error. */
export const parseNumbers = (
  text: string,
): { readonly numbers: Array<number> } | { readonly error: string } => {
  const numbers: Array<number> = []
  for (const token of text.split(/[\s,]+/).filter((t) => t !== "")) {
    const m = /^#?(\d{1,15})$/.exec(token)
    if (m === null) return { error: `Dependencies: "${token}" is not an item number` }
    numbers.push(Number(m[1]))
  }
  return { numbers: [...new Set(numbers)] }
}
