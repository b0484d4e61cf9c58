CREATE TABLE "telehook"."destinations" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text,
	"endpoint_id" text,
	"url" text NOT NULL,
	"event_types" text[],
	"enabled" boolean DEFAULT true NOT NULL,
	"disabled_reason" text,
	"secret_ciphertext" text NOT NULL,
	"previous_secret_ciphertext" text,
	"previous_secret_expires_at" timestamp with time zone,
	"max_in_flight" integer DEFAULT 4 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "destinations_one_scope" CHECK (("telehook"."destinations"."project_id" is null) <> ("telehook"."destinations"."endpoint_id" is null))
);
--> statement-breakpoint
CREATE TABLE "telehook"."forward_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job_id" bigint NOT NULL,
	"destination_id" text NOT NULL,
	"event_id" uuid NOT NULL,
	"attempt" integer NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"status" integer,
	"outcome" text NOT NULL,
	"latency_ms" integer NOT NULL,
	"response_body" text,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "telehook"."forward_jobs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"event_id" uuid NOT NULL,
	"destination_id" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"run_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_until" timestamp with time zone,
	"first_queued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_status" integer,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "forward_jobs_event_destination_key" UNIQUE("event_id","destination_id")
);
--> statement-breakpoint
ALTER TABLE "telehook"."destinations" ADD CONSTRAINT "destinations_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "telehook"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "telehook"."destinations" ADD CONSTRAINT "destinations_endpoint_id_endpoints_id_fk" FOREIGN KEY ("endpoint_id") REFERENCES "telehook"."endpoints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "telehook"."forward_attempts" ADD CONSTRAINT "forward_attempts_job_id_forward_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "telehook"."forward_jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "telehook"."forward_jobs" ADD CONSTRAINT "forward_jobs_event_id_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "telehook"."events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "telehook"."forward_jobs" ADD CONSTRAINT "forward_jobs_destination_id_destinations_id_fk" FOREIGN KEY ("destination_id") REFERENCES "telehook"."destinations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "destinations_project_idx" ON "telehook"."destinations" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "destinations_endpoint_idx" ON "telehook"."destinations" USING btree ("endpoint_id");--> statement-breakpoint
CREATE INDEX "forward_attempts_destination_idx" ON "telehook"."forward_attempts" USING btree ("destination_id","id");--> statement-breakpoint
CREATE INDEX "forward_attempts_job_idx" ON "telehook"."forward_attempts" USING btree ("job_id");--> statement-breakpoint
CREATE INDEX "forward_jobs_destination_status_run_at_idx" ON "telehook"."forward_jobs" USING btree ("destination_id","status","run_at");--> statement-breakpoint
CREATE INDEX "forward_jobs_status_run_at_idx" ON "telehook"."forward_jobs" USING btree ("status","run_at");