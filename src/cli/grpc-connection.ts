/**
 * A ProductSearchClient over gRPC for `metapixel migrate`, to Google's endpoint or to a
 * Metapixel. Google's endpoint (a *.googleapis.com host) gets Google's credentials:
 * Application Default Credentials, or an access token given on the command line. Any other
 * host is taken for a Metapixel: `http://` is a plaintext channel, `https://` TLS, and the
 * API key or bearer token rides on each call as metadata, because channel credentials on an
 * insecure channel send none (../shared/facts/google-api.md).
 */
import * as grpc from '@grpc/grpc-js';
import vision from '@google-cloud/vision';
// google-auth-library ships with @google-cloud/vision (google-gax depends on it).
import { GoogleAuth, OAuth2Client, PassThroughClient } from 'google-auth-library';
import { InvalidArgumentError } from 'commander';

export type ProductSearchClient = InstanceType<typeof vision.ProductSearchClient>;

export const GOOGLE_ENDPOINT = 'https://vision.googleapis.com';

export interface GrpcTarget {
  /** scheme://host:port as given (port defaulted). */
  url: string;
  apiKey?: string;
  accessToken?: string;
}

export interface GrpcConnection {
  url: string;
  google: boolean;
  client: ProductSearchClient;
  /** Resolves once credentials are loaded (Google's ADC), rejects with why they cannot be. */
  ready(): Promise<void>;
  /**
   * Per-call options: the credentials a Metapixel reads from metadata, and no retries of
   * the client's own (it retries lists for up to 10 minutes): migrate-retry.ts decides.
   */
  callOptions: { retry: null; otherArgs: { headers: Record<string, string> } };
  close(): Promise<void>;
}

/** Parses --from / --to: an http(s) URL of a gRPC endpoint, scheme host and port only. */
export function parseGrpcUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(
      "expected a URL such as http://127.0.0.1:50051 (a Metapixel's gRPC port) or https://vision.googleapis.com.",
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError('expected an http:// (plaintext) or https:// (TLS) URL.');
  if (url.pathname !== '/' || url.search) throw new InvalidArgumentError('give only scheme, host and port.');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.protocol}//${url.hostname}:${port}`;
}

export const isGoogle = (url: string) => /(^|\.)googleapis\.com$/i.test(new URL(url).hostname);

export function connectGrpc(target: GrpcTarget): GrpcConnection {
  const url = new URL(target.url);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const google = isGoogle(target.url);
  const headers: Record<string, string> = {};
  if (target.apiKey) headers['x-goog-api-key'] = target.apiKey;
  let options: ConstructorParameters<typeof vision.ProductSearchClient>[0];
  let ready = async () => {};
  if (google) {
    // TLS with Google's credentials: a given token, else ADC (GOOGLE_APPLICATION_CREDENTIALS,
    // gcloud's application-default login, or the metadata server). ADC is loaded by ready(),
    // before any call: when the client loads it and fails, the failure also escapes as an
    // unhandled rejection.
    const auth = target.accessToken ? undefined : new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
    if (auth) ready = async () => void (await auth.getClient());
    options = { apiEndpoint: url.hostname, port, ...(auth ? { auth } : { authClient: tokenClient(target.accessToken!) }) };
  } else {
    if (target.accessToken) headers.authorization = `Bearer ${target.accessToken}`;
    options = {
      apiEndpoint: url.hostname.replace(/^\[|\]$/g, ''),
      port,
      sslCreds: url.protocol === 'https:' ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(),
      // Without it the client would probe for Google credentials first.
      authClient: new PassThroughClient(),
    };
  }
  const client = new vision.ProductSearchClient(options);
  return { url: target.url, google, client, ready, callOptions: { retry: null, otherArgs: { headers } }, close: () => client.close() };
}

function tokenClient(token: string): OAuth2Client {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: token });
  return auth;
}
