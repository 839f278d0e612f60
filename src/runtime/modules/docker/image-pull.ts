import type Dockerode from 'dockerode';

import { describeEngineFailure, isNotFound } from './docker-engine.js';
import type { ImagePullPolicy } from '../types.js';
import { engineCall, engineMessage } from './engine-call.js';
import { credentialFor, redact, withDefaultTag, type RegistryCredential } from './image-ref.js';

export interface ImageRequest {
  module: string;
  image: string;
  policy: ImagePullPolicy;
  credentials: RegistryCredential[];
  /** Pull progress, one line per layer status change; never holds the password. */
  log?: (message: string) => void;
}

type ProgressEvent = { error?: string; status?: string; id?: string };

/** Makes sure `image` is present: pulled when absent under `on-create`, an error under `never`. */
export async function ensureImage(
  docker: Dockerode,
  target: { uri: string; socketPath: string },
  request: ImageRequest,
): Promise<void> {
  const { module, image, policy } = request;
  const present = await engineCall(target, `inspect image ${image}`, undefined, async () => {
    try {
      await docker.getImage(image).inspect();
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  });
  if (present) return;
  if (policy === 'never') {
    throw new Error(`module ${module}: image ${image} is not present and imagePullPolicy is never`);
  }
  await pull(docker, target, request);
}

async function pull(
  docker: Dockerode,
  target: { uri: string; socketPath: string },
  { module, image, credentials, log }: ImageRequest,
): Promise<void> {
  const credential = credentialFor(image, credentials);
  const secrets = credential ? [credential.password] : [];
  const authconfig = credential && {
    username: credential.username,
    password: credential.password,
    serveraddress: credential.address,
  };
  log?.(`module ${module}: pulling ${image}${credential ? ` as ${credential.username}` : ''}`);
  const fail = (message: string) =>
    new Error(`module ${module}: pulling ${image} failed: ${redact(message, secrets)}`);
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.pull(withDefaultTag(image), authconfig ? { authconfig } : {});
  } catch (error) {
    // the engine answered: its message comes from the registry (unauthorized, not found...)
    if (typeof (error as { statusCode?: unknown }).statusCode === 'number') throw fail(engineMessage(error));
    throw describeEngineFailure(target.uri, target.socketPath, error);
  }
  const last = new Map<string, string>();
  const events = await new Promise<ProgressEvent[]>((resolve, reject) =>
    docker.modem.followProgress(
      stream,
      (error: Error | null, output: ProgressEvent[]) =>
        error ? reject(fail(error.message)) : resolve(output),
      (event: ProgressEvent) => {
        const key = event.id ?? '';
        if (!event.status || last.get(key) === event.status) return;
        last.set(key, event.status);
        log?.(`module ${module}: pulling ${image}: ${event.id ? `${event.id}: ` : ''}${event.status}`);
      },
    ),
  );
  const failure = events.find((event) => event.error);
  if (failure?.error) throw fail(failure.error);
  log?.(`module ${module}: pulled ${image}`);
}
