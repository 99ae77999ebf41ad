-- Operations.
--
-- The HTTP request id (x-request-id) that accepted a reservation follows it through the
-- queues: every message about the reservation carries it as its AMQP correlation id, so one id
-- finds the request, its decision, its payment and its webhooks in the logs.
ALTER TABLE reservation ADD COLUMN request_id text CHECK (length(request_id) <= 200);
ALTER TABLE outbound_message ADD COLUMN correlation_id text;

-- How long each worker process takes per command, on average (an exponentially weighted
-- mean), refreshed every few seconds. Intake turns a request's place in its partition into an
-- estimated wait with it. A row not refreshed for a while belongs to a stopped worker.
CREATE TABLE worker_pace (
    worker_id           uuid PRIMARY KEY,
    seconds_per_command double precision NOT NULL CHECK (seconds_per_command >= 0),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
