/**
 * The AWS default credential provider chain as a `Credentials` layer. It lives in a module of its
 * own, not in `Credentials`: a dynamic `import()` is still inlined into a single-file bundle, so
 * beside the other layers it would put `@aws-sdk/credential-providers` (about 100 KB gzipped, with `@smithy/core` and
 * `@aws-sdk/core`) into every program that named `Credentials`. As a module, a program that never
 * names `CredentialsChain` bundles none of it.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Credentials from "./Credentials.js"
import { makeCached } from "./internal/cachedCredentials.js"

/**
 * The AWS default provider chain (`fromNodeProviderChain` of `@aws-sdk/credential-providers`):
 * environment, SSO and shared config/credentials files (`AWS_PROFILE`), process credentials, web
 * identity, ECS/EKS container credentials, EC2 instance metadata. Cached and refreshed as
 * `Credentials.layerProvider`; the chain keeps its own cache too, renewed when under 5 minutes are
 * left, so a `refreshBefore` above 5 minutes gets the same credentials back (and backs off) until
 * then. Other options go to `fromNodeProviderChain` (`profile`, `roleAssumer`…).
 *
 * @example
 * ```ts
 * import { CredentialsChain, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
 * import { Layer } from "effect"
 *
 * const live = HttpChimeRooms.layerConfig().pipe(
 *   Layer.provide(UndiciHttpClient.layer),
 *   Layer.provide(CredentialsChain.layer())
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  options?: Record<string, unknown> & Credentials.ProviderOptions
): Layer.Layer<Credentials.Credentials> =>
  Layer.effect(
    Credentials.Credentials,
    Effect.flatMap(
      // Loaded when the layer is built: unbundled, a program that imports the package index but not
      // this layer never loads the SDK's config loaders.
      Effect.promise(() => import("@aws-sdk/credential-providers")),
      (sdk) => {
        let chain: Credentials.AwsCredentialsProvider | undefined
        const provider: Credentials.AwsCredentialsProvider = () => {
          chain ??= sdk.fromNodeProviderChain(
            options as Parameters<typeof sdk.fromNodeProviderChain>[0]
          ) as Credentials.AwsCredentialsProvider
          return chain()
        }
        return makeCached(provider, { sources: Credentials.defaultChainSources, ...options })
      }
    )
  )
