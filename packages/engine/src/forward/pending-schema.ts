/**
 * The forwarding tables' DDL for tests, until their migration is generated (it must come after
 * migrations other branches add). Delete this file once `drizzle/` has the forwarding migration.
 */
export const PENDING_FORWARDING_DDL =
  'CREATE TABLE "telehook"."destinations" (\n\t"id" text PRIMARY KEY NOT NULL,\n\t"project_id" text,\n\t"endpoint_id" text,\n\t"url" text NOT NULL,\n\t"event_types" text[],\n\t"enabled" boolean DEFAULT true NOT NULL,\n\t"disabled_reason" text,\n\t"secret_ciphertext" text NOT NULL,\n\t"previous_secret_ciphertext" text,\n\t"previous_secret_expires_at" timestamp with time zone,\n\t"max_in_flight" integer DEFAULT 4 NOT NULL,\n\t"created_at" timestamp with time zone DEFAULT now() NOT NULL,\n\t"updated_at" timestamp with time zone DEFAULT now() NOT NULL,\n\tCONSTRAINT "destinations_one_scope" CHECK (("telehook"."destinations"."project_id" is null) <> ("telehook"."destinations"."endpoint_id" is null))\n);\n--> statement-breakpoint\nCREATE TABLE "telehook"."forward_attempts" (\n\t"id" bigserial PRIMARY KEY NOT NULL,\n\t"job_id" bigint NOT NULL,\n\t"destination_id" text NOT NULL,\n\t"event_id" uuid NOT NULL,\n\t"attempt" integer NOT NULL,\n\t"started_at" timestamp with time zone NOT NULL,\n\t"status" integer,\n\t"outcome" text NOT NULL,\n\t"latency_ms" integer NOT NULL,\n\t"response_body" text,\n\t"error" text\n);\n--> statement-breakpoint\nCREATE TABLE "telehook"."forward_jobs" (\n\t"id" bigserial PRIMARY KEY NOT NULL,\n\t"event_id" uuid NOT NULL,\n\t"destination_id" text NOT NULL,\n\t"status" text DEFAULT \'queued\' NOT NULL,\n\t"attempts" integer DEFAULT 0 NOT NULL,\n\t"run_at" timestamp with time zone DEFAULT now() NOT NULL,\n\t"locked_until" timestamp with time zone,\n\t"first_queued_at" timestamp with time zone DEFAULT now() NOT NULL,\n\t"last_status" integer,\n\t"last_error" text,\n\t"created_at" timestamp with time zone DEFAULT now() NOT NULL,\n\t"updated_at" timestamp with time zone DEFAULT now() NOT NULL,\n\tCONSTRAINT "forward_jobs_event_destination_key" UNIQUE("event_id","destination_id")\n);\n--> statement-breakpoint\nALTER TABLE "telehook"."destinations" ADD CONSTRAINT "destinations_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "telehook"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint\nALTER TABLE "telehook"."destinations" ADD CONSTRAINT "destinations_endpoint_id_endpoints_id_fk" FOREIGN KEY ("endpoint_id") REFERENCES "telehook"."endpoints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint\nALTER TABLE "telehook"."forward_attempts" ADD CONSTRAINT "forward_attempts_job_id_forward_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "telehook"."forward_jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint\nALTER TABLE "telehook"."forward_jobs" ADD CONSTRAINT "forward_jobs_event_id_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "telehook"."events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint\nALTER TABLE "telehook"."forward_jobs" ADD CONSTRAINT "forward_jobs_destination_id_destinations_id_fk" FOREIGN KEY ("destination_id") REFERENCES "telehook"."destinations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint\nCREATE INDEX "destinations_project_idx" ON "telehook"."destinations" USING btree ("project_id");--> statement-breakpoint\nCREATE INDEX "destinations_endpoint_idx" ON "telehook"."destinations" USING btree ("endpoint_id");--> statement-breakpoint\nCREATE INDEX "forward_attempts_destination_idx" ON "telehook"."forward_attempts" USING btree ("destination_id","id");--> statement-breakpoint\nCREATE INDEX "forward_attempts_job_idx" ON "telehook"."forward_attempts" USING btree ("job_id");--> statement-breakpoint\nCREATE INDEX "forward_jobs_destination_status_run_at_idx" ON "telehook"."forward_jobs" USING btree ("destination_id","status","run_at");--> statement-breakpoint\nCREATE INDEX "forward_jobs_status_run_at_idx" ON "telehook"."forward_jobs" USING btree ("status","run_at");'

/** Test helper: a fresh test database with the forwarding tables. */
export async function openForwardTestDb(driver: import('@telehook/db/testing').TestDriver) {
  const { openTestDb } = await import('@telehook/db/testing')
  const { queryRows } = await import('@telehook/db')
  const { sql } = await import('drizzle-orm')
  const database = await openTestDb(driver)
  const [row] = await queryRows<{ t: string | null }>(
    database.db,
    sql`select to_regclass('telehook.forward_jobs')::text as t`,
  )
  if (!row?.t) {
    for (const s of PENDING_FORWARDING_DDL.split('--> statement-breakpoint')) {
      if (s.trim()) await database.db.execute(sql.raw(s))
    }
  }
  return database
}
