import { ScheduleOverlapPolicy } from '@temporalio/client';
import { cronProblem, isTimeZone, SCHEDULE_OVERLAP_POLICIES } from '../../common/schemas/schedules';

describe('schedule input', () => {
  it("offers exactly Temporal's overlap policies", () => {
    expect([...SCHEDULE_OVERLAP_POLICIES].sort()).toEqual(Object.keys(ScheduleOverlapPolicy).filter((p) => p !== 'UNSPECIFIED').sort());
  });

  it.each(['0 3 * * *', '*/15 * * * 1-5', '30 2 1 * *', '@daily', ' @hourly '])('accepts %j', (cron) => {
    expect(cronProblem(cron)).toBeUndefined();
  });

  it.each([
    ['0 3 * *', /five fields.*got 4 fields/],
    ['0 0 3 * * *', /five fields.*got 6 fields/],
    ['60 3 * * *', /range 0-59/],
    ['0 3 * * funday', /./],
    ['@fortnightly', /five fields/],
  ])('refuses %j, saying why', (cron, reason) => {
    expect(cronProblem(cron)).toMatch(reason);
  });

  it('knows IANA time zones', () => {
    expect(['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires'].every(isTimeZone)).toBe(true);
    expect(['Mars/Olympus_Mons', 'CEST+1', ''].some(isTimeZone)).toBe(false);
  });
});
