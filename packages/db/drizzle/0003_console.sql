CREATE TABLE "telehook"."console_sessions" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"csrf_token" text NOT NULL,
	"token_name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "console_sessions_expires_idx" ON "telehook"."console_sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "events_received_idx" ON "telehook"."events" USING btree ("received_at","event","valid","delivery_count");--> statement-breakpoint
CREATE INDEX "events_endpoint_received_idx" ON "telehook"."events" USING btree ("endpoint_id","received_at");--> statement-breakpoint
CREATE INDEX "events_handler_error_received_idx" ON "telehook"."events" USING btree ("received_at") WHERE handler_error is not null;