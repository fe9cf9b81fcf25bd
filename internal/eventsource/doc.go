// Package eventsource runs Lambda's event source mappings on a laptop: it
// polls the template's SQS queues and DynamoDB streams, batches and filters
// their records as Lambda does, invokes the mapped function, and handles its
// failures (retries, partial batch responses, bisection, on-failure
// destinations) as Lambda's pollers do.
package eventsource
