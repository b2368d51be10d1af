import type { Knex } from 'knex'

/**
 * The durable job table every background task shares (webhook deliveries first; backups and retention
 * later), and outbound webhooks: endpoints, the messages sent to them and each delivery's attempts. Times
 * are epoch milliseconds in BIGINT columns, like the other tables.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('gantry_jobs', (t) => {
    t.bigIncrements('id').primary()
    t.string('type', 64).notNullable() // what runs it: webhook.deliver, …
    t.text('payload').notNullable() // JSON
    t.string('status', 16).notNullable() // queued | running | succeeded | failed
    t.integer('attempts').notNullable().defaultTo(0)
    // When it is due: queued, from then on; running, when its lease runs out and another worker may take it
    // over; finished, null. So one index range (run_at <= now) is exactly the due rows, oldest first, and a
    // claim on MySQL locks only the rows it takes (InnoDB locks every row a locking read examines).
    t.bigInteger('run_at').nullable()
    t.string('lease_owner', 64).nullable() // the worker holding it while running
    t.string('last_error', 1000).nullable()
    t.bigInteger('created_at').notNullable()
    t.bigInteger('updated_at').notNullable()
    t.bigInteger('finished_at').nullable()
    t.index(['run_at'], 'gantry_jobs_due')
    t.index(['finished_at'], 'gantry_jobs_finished')
  })

  await knex.schema.createTable('gantry_webhook_endpoints', (t) => {
    t.string('id', 32).primary() // ep_…
    t.string('url', 2048).notNullable()
    t.string('description', 500).notNullable().defaultTo('')
    t.text('event_types').notNullable() // JSON array of types and wildcards (users.*)
    t.boolean('enabled').notNullable()
    t.string('disabled_reason', 255).nullable() // why it is off: by hand, or failing since …
    t.text('secret').notNullable() // sealed under GANTRY_ENCRYPTION_KEY
    t.text('previous_secret').nullable() // sealed; signs beside the new one until previous_secret_until
    t.bigInteger('previous_secret_until').nullable()
    t.string('created_by', 255).notNullable() // the actor whose read permissions bound what is sent
    t.bigInteger('failing_since').nullable() // the first failed delivery of a continuous run of failures
    t.bigInteger('created_at').notNullable()
    t.bigInteger('updated_at').notNullable()
  })

  await knex.schema.createTable('gantry_webhook_messages', (t) => {
    t.string('id', 32).primary() // msg_…: the webhook-id of every delivery and attempt of it
    t.string('type', 128).notNullable()
    t.text('body').notNullable() // the JSON body as signed and sent, so a redelivery sends the same bytes
    t.bigInteger('created_at').notNullable()
    t.index(['created_at'], 'gantry_webhook_messages_created')
  })

  await knex.schema.createTable('gantry_webhook_deliveries', (t) => {
    t.bigIncrements('id').primary()
    t.string('message_id', 32).notNullable().references('id').inTable('gantry_webhook_messages').onDelete('CASCADE')
    t.string('endpoint_id', 32).notNullable().references('id').inTable('gantry_webhook_endpoints').onDelete('CASCADE')
    t.string('status', 16).notNullable() // pending | succeeded | failed | skipped
    t.integer('attempts').notNullable().defaultTo(0)
    t.bigInteger('next_attempt_at').nullable()
    t.integer('last_status').nullable() // the receiver's HTTP status of the last attempt
    t.string('last_error', 1000).nullable()
    t.bigInteger('created_at').notNullable()
    t.bigInteger('updated_at').notNullable()
    t.unique(['message_id', 'endpoint_id'], { indexName: 'gantry_webhook_deliveries_unique' }) // a job names its delivery by these two
    t.index(['endpoint_id', 'id'], 'gantry_webhook_deliveries_endpoint')
    t.index(['status', 'updated_at'], 'gantry_webhook_deliveries_status')
  })

  await knex.schema.createTable('gantry_webhook_attempts', (t) => {
    t.bigIncrements('id').primary()
    t.bigInteger('delivery_id').unsigned().notNullable().references('id').inTable('gantry_webhook_deliveries').onDelete('CASCADE')
    t.bigInteger('at').notNullable()
    t.integer('status_code').nullable() // null: no answer (timeout, refused, redirect not followed …)
    t.integer('latency_ms').notNullable()
    t.string('error', 1000).nullable()
    t.string('response_excerpt', 1100).nullable() // the first KB of a failed answer, control characters escaped
    t.string('trigger', 16).notNullable() // scheduled | manual
    t.index(['delivery_id', 'id'], 'gantry_webhook_attempts_delivery')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('gantry_webhook_attempts')
  await knex.schema.dropTable('gantry_webhook_deliveries')
  await knex.schema.dropTable('gantry_webhook_messages')
  await knex.schema.dropTable('gantry_webhook_endpoints')
  await knex.schema.dropTable('gantry_jobs')
}
