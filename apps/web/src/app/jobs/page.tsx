import { JobsPage } from "../../features/jobs/JobsPage";

export default function Jobs() {
  return <JobsPage />;
}
