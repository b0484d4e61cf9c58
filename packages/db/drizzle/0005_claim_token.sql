ALTER TABLE "telehook"."forward_jobs" ADD COLUMN "claim_token" text;--> statement-breakpoint
ALTER TABLE "telehook"."jobs" ADD COLUMN "claim_token" text;