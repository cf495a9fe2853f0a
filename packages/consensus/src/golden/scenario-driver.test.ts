import { describe, expect, it } from "vitest";
import { ScenarioDriver, ScenarioStepError } from "./scenario-driver.js";

describe("golden scenario driver", () => {
  it("refuses a step it cannot run with an error that names the problem", () => {
    const driver = new ScenarioDriver();
    expect(() => driver.run("campaign n1")).toThrow(new ScenarioStepError("no cluster yet: the first step must be `cluster N`"));
    expect(() => driver.run("cluster 30")).toThrow(/cluster size "30" is not in \[1, 9\]/);
    expect(() => driver.run("cluster 3 fastMode=true")).toThrow(/cluster option "fastMode=true" is not one of seed, preVote/);
    driver.run("cluster 3");
    expect(() => driver.run("campaign n7")).toThrow('argument 1: no node "n7"');
    expect(() => driver.run("tick n1 100000")).toThrow('"100000" is not a count in [1, 1000]');
    expect(() => driver.run("change n1 demote n2")).toThrow('change kind "demote" is not add_learner, promote or remove');
    expect(() => driver.run("launch n1")).toThrow('unknown step "launch"');
  });

  it("prints ok for a step with no output, and keeps a step's answer under quiet", () => {
    const driver = new ScenarioDriver();
    expect(driver.run("cluster 3 seed=2")).toEqual(["ok"]);
    expect(driver.run("campaign n1 quiet")).toEqual(["ok"]);
    expect(driver.run("propose n1 a quiet")).toEqual(["propose: ok=true forwarded=false index=2 term=2"]);
    expect(driver.run("propose n2 b")).toEqual(expect.arrayContaining(["propose: ok=true forwarded=true leader=n1"]));
  });
});
