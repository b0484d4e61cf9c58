// The HTTP ceiling: Bun.serve reading the body and answering 200, no database. Env: PORT.
Bun.serve({
  port: Number(process.env.PORT),
  hostname: '127.0.0.1',
  async fetch(req) {
    await req.arrayBuffer()
    return new Response(null, { status: 200 })
  },
})
console.log('ready')
