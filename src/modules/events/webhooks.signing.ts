import { createHmac, randomBytes } from 'node:crypto';

// Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, the
// key being the base64 part of a `whsec_` secret. During a rotation's overlap both secrets sign.

export const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

export function sign(secret: string, msgId: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${msgId}.${timestamp}.${body}`).digest('base64')}`;
}

export function signatureHeader(secrets: readonly string[], msgId: string, timestamp: number, body: string): string {
  return secrets.map((s) => sign(s, msgId, timestamp, body)).join(' ');
}
