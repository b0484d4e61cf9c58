// Bun turns `import x from '…' with { type: 'file' }` into a path (inside the compiled binary: a
// `$bunfs/` path readable with Bun.file), so these asset modules are typed as strings.
declare module '@electric-sql/pglite/pglite.wasm' {
  const path: string
  export default path
}
declare module '@electric-sql/pglite/initdb.wasm' {
  const path: string
  export default path
}
declare module '@electric-sql/pglite/pglite.data' {
  const path: string
  export default path
}
declare module '*.tar.gz' {
  const path: string
  export default path
}
