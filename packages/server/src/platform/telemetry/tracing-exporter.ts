import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node';
import type { Logger } from 'pino';

type ExportResult = Parameters<Parameters<SpanExporter['export']>[1]>[0];

/** At most one warning per this many milliseconds while the collector keeps failing. */
const WARN_EVERY_MS = 60_000;

/**
 * Wraps an exporter so failed exports are logged, but only now and then: the
 * SDK otherwise reports them to a diagnostic logger that is silent by default,
 * and a collector that is down for an hour must not write a line per batch.
 */
export class ThrottledLogExporter implements SpanExporter {
  private lastWarnedAt = -Infinity;
  private failedBatches = 0;
  private droppedSpans = 0;

  constructor(
    private readonly inner: SpanExporter,
    private readonly log: Pick<Logger, 'warn' | 'info'>,
    private readonly now: () => number = () => performance.now(),
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      // ExportResultCode.SUCCESS is 0; @opentelemetry/core is not a direct dependency.
      if (result.code === 0) this.recovered();
      else this.failed(spans.length, result.error);
      resultCallback(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  private failed(spans: number, error: Error | undefined): void {
    this.failedBatches += 1;
    this.droppedSpans += spans;
    if (this.now() - this.lastWarnedAt < WARN_EVERY_MS) return;
    this.lastWarnedAt = this.now();
    this.log.warn({ err: error, failedBatches: this.failedBatches, droppedSpans: this.droppedSpans }, 'could not export spans');
    this.failedBatches = 0;
    this.droppedSpans = 0;
  }

  private recovered(): void {
    if (this.lastWarnedAt === -Infinity) return;
    this.log.info({ failedBatches: this.failedBatches, droppedSpans: this.droppedSpans }, 'exporting spans again');
    this.lastWarnedAt = -Infinity;
    this.failedBatches = 0;
    this.droppedSpans = 0;
  }
}
