/**
 * @module Handlers of the scale-out suite: the async handler of `incoming_message` reports each run
 * to the suite's recorder (`SCALE_RECORDER_URL`), keyed by event id, so a second run shows.
 */
const recorder = process.env.SCALE_RECORDER_URL

export default {
  async: {
    incoming_message: async (_message: unknown, ctx: { eventId: string }) => {
      const res = await fetch(`${recorder}/job/${ctx.eventId}`, { method: 'POST' })
      await res.body?.cancel()
      if (!res.ok) throw new Error(`recorder answered ${res.status}`)
    },
  },
}
