/**
 * Tells when a listing's `NextToken`s start repeating, in bounded memory however many pages the
 * listing has.
 *
 * A token repeated within the last {@link WINDOW} tokens is caught at once (the common failure: a
 * service handing back the token it was given). A longer cycle is caught by Brent's cycle finding:
 * one checkpoint token, moved forward at steps 1, 2, 4, 8…; once the steps between moves reach the
 * cycle's length, the checkpoint comes round again within one cycle.
 */

/** How many recent tokens are remembered exactly. */
export const WINDOW = 1024

export class LoopGuard {
  private readonly recent = new Set<string>()
  private readonly ring: Array<string | undefined> = []
  private next = 0
  private checkpoint: string | undefined = undefined
  private steps = 0
  private power = 1

  /** How many tokens are held (at most `WINDOW + 1`). */
  get remembered(): number {
    return this.recent.size + (this.checkpoint === undefined || this.recent.has(this.checkpoint) ? 0 : 1)
  }

  /** Whether following `token` would repeat a token already followed. */
  has(token: string): boolean {
    return token === this.checkpoint || this.recent.has(token)
  }

  /** Records a token the listing follows. */
  add(token: string): void {
    const evicted = this.ring[this.next]
    if (evicted !== undefined) this.recent.delete(evicted)
    this.ring[this.next] = token
    this.next = (this.next + 1) % WINDOW
    this.recent.add(token)
    if (++this.steps === this.power) {
      this.checkpoint = token
      this.power *= 2
      this.steps = 0
    }
  }
}
