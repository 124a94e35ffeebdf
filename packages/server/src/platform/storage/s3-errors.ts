interface SdkFailure {
  name?: string;
  message?: string;
  code?: string;
  errors?: unknown[];
  $metadata?: { httpStatusCode?: number };
}

/** Whether an SDK error means the object (not the bucket) does not exist. */
export function isMissingObject(error: unknown): boolean {
  const failure = error as SdkFailure;
  if (failure?.name === 'NoSuchKey') return true;
  return failure?.$metadata?.httpStatusCode === 404 && failure.name !== 'NoSuchBucket';
}

/** A one-line reason for logs and error messages, from SDK, HTTP and socket errors alike. */
export function describeS3Failure(error: unknown): string {
  const failure = error as SdkFailure;
  if (!failure || typeof failure !== 'object') return String(error);
  const status = failure.$metadata?.httpStatusCode;
  if (failure.name === 'AbortError' || failure.name === 'TimeoutError') return `timed out (${failure.message || failure.name})`;
  if (status === 404 && (failure.name === 'NotFound' || failure.name === 'NoSuchBucket')) return 'the bucket does not exist';
  if (status === 403 || failure.name === 'AccessDenied' || failure.name === 'InvalidAccessKeyId' || failure.name === 'SignatureDoesNotMatch') {
    return `access denied (${failure.name}): check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY`;
  }
  // Node reports a refused connection to a name with several addresses as an AggregateError without a message.
  const inner = Array.isArray(failure.errors) ? failure.errors.map((each) => (each as Error).message).filter(Boolean) : [];
  const message = failure.message || inner.join('; ') || failure.code || failure.name || 'unknown error';
  return status ? `${failure.name ?? 'error'} (HTTP ${status}): ${message}` : message;
}
