DROP INDEX "telehook"."message_status_history_message_idx";--> statement-breakpoint
UPDATE "telehook"."broadcasts" SET "project_id" = '' WHERE "project_id" IS NULL;--> statement-breakpoint
UPDATE "telehook"."contacts" SET "project_id" = '' WHERE "project_id" IS NULL;--> statement-breakpoint
UPDATE "telehook"."messages" SET "project_id" = '' WHERE "project_id" IS NULL;--> statement-breakpoint
ALTER TABLE "telehook"."broadcasts" DROP CONSTRAINT "broadcasts_pkey";--> statement-breakpoint
ALTER TABLE "telehook"."broadcasts" ALTER COLUMN "project_id" SET DEFAULT '';--> statement-breakpoint
ALTER TABLE "telehook"."broadcasts" ALTER COLUMN "project_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "telehook"."contacts" DROP CONSTRAINT "contacts_pkey";--> statement-breakpoint
ALTER TABLE "telehook"."contacts" ALTER COLUMN "project_id" SET DEFAULT '';--> statement-breakpoint
ALTER TABLE "telehook"."contacts" ALTER COLUMN "project_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "telehook"."messages" DROP CONSTRAINT "messages_pkey";--> statement-breakpoint
ALTER TABLE "telehook"."messages" ALTER COLUMN "project_id" SET DEFAULT '';--> statement-breakpoint
ALTER TABLE "telehook"."messages" ALTER COLUMN "project_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "telehook"."broadcasts" ADD CONSTRAINT "broadcasts_project_id_pk" PRIMARY KEY("project_id","id");--> statement-breakpoint
ALTER TABLE "telehook"."contacts" ADD CONSTRAINT "contacts_project_id_pk" PRIMARY KEY("project_id","id");--> statement-breakpoint
ALTER TABLE "telehook"."messages" ADD CONSTRAINT "messages_project_id_pk" PRIMARY KEY("project_id","id");--> statement-breakpoint
ALTER TABLE "telehook"."events" ADD COLUMN "flag" text;--> statement-breakpoint
ALTER TABLE "telehook"."message_status_history" ADD COLUMN "project_id" text DEFAULT '' NOT NULL;--> statement-breakpoint
UPDATE "telehook"."message_status_history" AS h SET "project_id" = m."project_id" FROM "telehook"."messages" AS m WHERE m."id" = h."message_id";--> statement-breakpoint
CREATE INDEX "message_status_history_message_idx" ON "telehook"."message_status_history" USING btree ("project_id","message_id","id");
