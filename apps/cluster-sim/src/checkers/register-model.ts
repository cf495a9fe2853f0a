/** What the checker needs of a state machine definition (a `Definition` from state-machine fits). */
export interface RegisterDefinition {
  readonly initial: string;
  readonly transitions: readonly { readonly from: string; readonly to: string }[];
}

/** The built-in lifecycle (DESIGN.md §1), used when no definition is given. */
export const lifecycleRegisterDefinition: RegisterDefinition = {
  initial: "Init",
  transitions: [
    { from: "Init", to: "Running" },
    { from: "Running", to: "Stopped" },
    { from: "Stopped", to: "Init" },
  ],
};

/** Marks a state name the definition does not know: no transition reaches it and no state equals it. */
export const unknownState = -1;
/** Marks "no expect": the transition is unconditional. */
export const noExpect = -2;

/**
 * The model of one key: a register holding a state, changed only by allowed transitions. States
 * are small integers so the search can compare and hash them cheaply.
 */
export class RegisterModel {
  readonly initial: number;
  private readonly names: string[] = [];
  private readonly ids = new Map<string, number>();
  private readonly allowed: Set<number>;

  constructor(definition: RegisterDefinition) {
    this.initial = this.intern(definition.initial);
    for (const { from, to } of definition.transitions) {
      this.intern(from);
      this.intern(to);
    }
    this.allowed = new Set(definition.transitions.filter((t) => t.from !== t.to).map((t) => this.pair(this.idOf(t.from), this.idOf(t.to))));
  }

  idOf(name: string): number {
    return this.ids.get(name) ?? unknownState;
  }

  nameOf(state: number): string {
    return this.names[state] ?? "<unknown state>";
  }

  isAllowed(from: number, to: number): boolean {
    return from !== unknownState && to !== unknownState && this.allowed.has(this.pair(from, to));
  }

  private intern(name: string): number {
    const known = this.ids.get(name);
    if (known !== undefined) return known;
    this.names.push(name);
    this.ids.set(name, this.names.length - 1);
    return this.names.length - 1;
  }

  private pair(from: number, to: number): number {
    return from * 65_536 + to;
  }
}
