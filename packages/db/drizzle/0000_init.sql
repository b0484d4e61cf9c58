CREATE SCHEMA "telehook";
--> statement-breakpoint
CREATE TABLE "telehook"."admin_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	CONSTRAINT "admin_tokens_token_hash_key" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "telehook"."idempotency_keys" (
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status" integer NOT NULL,
	"response" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_scope_key_pk" PRIMARY KEY("scope","key")
);
--> statement-breakpoint
CREATE TABLE "telehook"."broadcasts" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text,
	"title" text,
	"content" text,
	"message_type" text,
	"status" text,
	"source" text,
	"recipients_str" text,
	"recipients" jsonb,
	"estimated_count" integer,
	"route_id" text,
	"service_id" text,
	"user_id" text,
	"user_name" text,
	"user_email" text,
	"time_created" timestamp with time zone,
	"vars" jsonb,
	"last_event_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "telehook"."contacts" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text,
	"name" text,
	"phone_number" text,
	"send_blocked" boolean DEFAULT false NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"group_ids" text[] DEFAULT '{}' NOT NULL,
	"vars" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"conversation_status" text,
	"message_count" integer,
	"time_created" timestamp with time zone,
	"time_updated" timestamp with time zone,
	"last_message_time" timestamp with time zone,
	"last_update_type" text,
	"last_event_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "telehook"."endpoints" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"project_id" text,
	"name" text,
	"telerivet_service_id" text,
	"secret_hash" text NOT NULL,
	"previous_secret_hash" text,
	"previous_secret_expires_at" timestamp with time zone,
	"disabled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "telehook"."events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"endpoint_id" text NOT NULL,
	"project_id" text,
	"event" text NOT NULL,
	"telerivet_id" text,
	"dedupe_key" text NOT NULL,
	"payload" jsonb NOT NULL,
	"reply" jsonb,
	"valid" boolean NOT NULL,
	"errors" jsonb,
	"handler_error" text,
	"delivery_count" integer DEFAULT 1 NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "events_endpoint_dedupe_key" UNIQUE("endpoint_id","dedupe_key")
);
--> statement-breakpoint
CREATE TABLE "telehook"."jobs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"event_id" uuid NOT NULL,
	"handler" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer DEFAULT 8 NOT NULL,
	"run_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_until" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "telehook"."message_status_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"message_id" text NOT NULL,
	"status" text NOT NULL,
	"error_message" text,
	"time_clicked" timestamp with time zone,
	"time_sent" timestamp with time zone,
	"event_id" uuid NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "telehook"."messages" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text,
	"direction" text,
	"message_type" text,
	"status" text,
	"source" text,
	"from_number" text,
	"to_number" text,
	"content" text,
	"contact_id" text,
	"phone_id" text,
	"route_id" text,
	"service_id" text,
	"broadcast_id" text,
	"time_created" timestamp with time zone,
	"time_sent" timestamp with time zone,
	"time_updated" timestamp with time zone,
	"time_clicked" timestamp with time zone,
	"error_message" text,
	"starred" boolean,
	"label_ids" text[],
	"vars" jsonb,
	"in_progress" boolean,
	"media" jsonb,
	"last_event_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "telehook"."projects" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"api_key_ciphertext" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "telehook"."endpoints" ADD CONSTRAINT "endpoints_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "telehook"."projects"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "contacts_project_idx" ON "telehook"."contacts" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "contacts_phone_idx" ON "telehook"."contacts" USING btree ("phone_number");--> statement-breakpoint
CREATE INDEX "events_project_received_idx" ON "telehook"."events" USING btree ("project_id","received_at");--> statement-breakpoint
CREATE INDEX "events_event_received_idx" ON "telehook"."events" USING btree ("event","received_at");--> statement-breakpoint
CREATE INDEX "jobs_status_run_at_idx" ON "telehook"."jobs" USING btree ("status","run_at");--> statement-breakpoint
CREATE INDEX "jobs_event_idx" ON "telehook"."jobs" USING btree ("event_id");--> statement-breakpoint
CREATE INDEX "message_status_history_message_idx" ON "telehook"."message_status_history" USING btree ("message_id","id");--> statement-breakpoint
CREATE INDEX "messages_project_created_idx" ON "telehook"."messages" USING btree ("project_id","time_created");--> statement-breakpoint
CREATE INDEX "messages_contact_idx" ON "telehook"."messages" USING btree ("contact_id");