import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isDatabaseUnavailable } from '../platform/db/errors.js';
import { isSharedStateUnavailable } from '../platform/shared/errors.js';
import { ObjectStorageUnavailableError } from '../platform/storage/object-storage.js';
import type { Metrics } from '../platform/telemetry/metrics.js';
import { HttpError, type ErrorCode } from './errors.js';

/** Fastify's own client-error codes mapped to ours, so none of them becomes a 500. */
const fastifyCodes: Record<string, [number, ErrorCode, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'malformed_json', 'Request body is not valid JSON'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'malformed_json', 'Request body is empty but content-type is application/json'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large', 'Request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'Unsupported content-type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'bad_request', 'Content-Length does not match the body'],
  FST_REQ_FILE_TOO_LARGE: [413, 'payload_too_large', 'File is too large'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'unsupported_media_type', 'Expected multipart/form-data'],
  FST_PARTS_LIMIT: [413, 'payload_too_large', 'Too many parts in the upload'],
  FST_FILES_LIMIT: [413, 'payload_too_large', 'Too many files in the upload'],
  FST_FIELDS_LIMIT: [413, 'payload_too_large', 'Too many fields in the upload'],
  FST_PROTO_VIOLATION: [400, 'bad_request', 'Malformed multipart body'],
};

/** Answers an unmatched request itself (the web app's page fallback) when it returns true. */
export type NotFoundFallback = (request: FastifyRequest, reply: FastifyReply) => boolean;

/** Installs the one error handler: every failure leaves as `{ detail, code }` with the right status. */
export function installErrorHandler(app: FastifyInstance, metrics: Metrics, fallback?: NotFoundFallback): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpError) {
      if (error.code === 'rate_limited') metrics.rateLimited.inc({ limit: request.routeOptions.url ?? 'unmatched' });
      if (error.statusCode >= 500) request.log.warn({ code: error.code, detail: error.message }, 'request failed');
      return reply.status(error.statusCode).headers(error.headers).send({ detail: error.message, code: error.code });
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const first = error.validation[0];
      const field = first?.instancePath ? first.instancePath.replace(/^\//, '').replaceAll('/', '.') : error.validationContext;
      const detail = `Invalid ${field ?? 'request'}: ${first?.message ?? 'validation failed'}`;
      return reply.status(400).send({ detail, code: 'validation_failed', errors: error.validation });
    }
    const known = error.code ? fastifyCodes[error.code] : undefined;
    if (known) return reply.status(known[0]).send({ detail: known[2], code: known[1] });
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.status(error.statusCode).send({ detail: error.message, code: 'bad_request' });
    }
    if (error instanceof ObjectStorageUnavailableError) {
      metrics.dependencyErrors.inc({ dependency: 'storage' });
      request.log.warn({ err: error }, 'object storage unavailable');
      return reply.status(503).header('retry-after', '2').send({ detail: error.message, code: 'unavailable' });
    }
    if (isSharedStateUnavailable(error)) {
      metrics.dependencyErrors.inc({ dependency: 'redis' });
      request.log.warn({ err: error }, 'shared state unavailable');
      return reply.status(503).header('retry-after', '2').send({ detail: 'Shared state (Redis) is unavailable; try again shortly', code: 'unavailable' });
    }
    if (isDatabaseUnavailable(error)) {
      metrics.dependencyErrors.inc({ dependency: 'database' });
      request.log.warn({ err: error }, 'database unavailable');
      return reply.status(503).header('retry-after', '2').send({ detail: 'The database is unavailable; try again shortly', code: 'unavailable' });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ detail: 'Internal server error', code: 'internal' });
  });

  app.setNotFoundHandler((request, reply) => {
    if (fallback?.(request, reply)) return;
    reply.status(404).send({ detail: `No route for ${request.method} ${request.url.split('?')[0]}`, code: 'not_found' });
  });
}

/** Errors Fastify's router raises before any route or hook runs, in our shape (its own is `{error, message}`). */
const frameworkCodes: Record<string, [number, string]> = {
  FST_ERR_BAD_URL: [400, 'The URL path is not valid percent-encoded UTF-8'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'A path parameter is too long'],
};

/** Fastify's `frameworkErrors` option: a malformed or oversized URL path gets `{detail, code}` too. */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const [status, detail] = frameworkCodes[error.code] ?? [400, 'Bad request'];
  void reply.status(status).header('x-request-id', request.id).send({ detail, code: 'invalid_input' });
}

/** The HTTP parser's refusals (oversized headers, a timeout, garbage), sent on the raw socket in our shape. */
const clientErrorStatus: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'Request headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request took too long to arrive'],
};

/** Fastify's `clientErrorHandler` option: Node's parser errors leave as `{detail, code}` before the socket closes. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, detail] = clientErrorStatus[error.code ?? ''] ?? [400, 'Bad Request', 'Malformed HTTP request'];
  const body = JSON.stringify({ detail, code: status === 408 ? 'bad_request' : 'invalid_input' });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\n\r\n${body}`);
  }
  socket.destroy(error);
}
